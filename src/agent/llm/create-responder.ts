/**
 * The configured Responder, for the API and the CLI alike: the knowledge base (bundled files
 * plus KNOWLEDGE_DIR) indexed once, then the offline responder, or a language model over the
 * same index with web search, a circuit breaker and the optional offline fallback.
 */
import { join } from 'node:path';
import { type Config, ConfigError } from '../../config.js';
import { componentLogger, type Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';
import { PROBLEMS } from '../../texts/config.js';
import { KnowledgeFormatError, loadKnowledgeBase } from '../knowledge.js';
import { KnowledgeIndex } from '../knowledge-index.js';
import { OfflineResponder } from '../offline-responder.js';
import type { Responder } from '../types.js';
import { LlmResponder } from './llm-responder.js';
import type { ChatModel } from './model.js';
import { OllamaChatModel } from './ollama.js';
import { OpenAiChatModel } from './openai.js';
import { SearxngSearch } from './web-search.js';

/** Longest wait for the web search service; it also gets at most half of LLM_TIMEOUT, which
 * the web search and the model call of a turn share. */
export const WEB_SEARCH_TIMEOUT_MS = 10000;

async function knowledgeOf(dir: string | undefined): Promise<KnowledgeIndex> {
  try {
    return new KnowledgeIndex(await loadKnowledgeBase(dir));
  } catch (error) {
    if (dir !== undefined && error instanceof KnowledgeFormatError) {
      throw new ConfigError([PROBLEMS.knowledgeDirMalformed(join(dir, error.file), error.problem)]);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (dir !== undefined && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) {
      throw new ConfigError([PROBLEMS.knowledgeDirUnreadable(dir, code)]);
    }
    throw error;
  }
}

function chatModel(config: Config): ChatModel | undefined {
  const { llm } = config;
  switch (llm.provider) {
    case 'offline':
      return undefined;
    case 'ollama':
      return new OllamaChatModel({
        ...llm.ollama,
        timeoutMs: llm.timeoutMs,
        maxTokens: llm.maxTokens,
      });
    case 'openai':
      return new OpenAiChatModel({
        ...llm.openai,
        timeoutMs: llm.timeoutMs,
        maxTokens: llm.maxTokens,
      });
  }
}

/** Builds the responder LLM_PROVIDER names; throws ConfigError for an unreadable KNOWLEDGE_DIR
 * or a malformed repair file in it. */
export async function createResponder(config: Config, logger: Logger): Promise<Responder> {
  const { llm } = config;
  const log = componentLogger(logger, 'agent.llm', 'agent');
  const knowledge = await knowledgeOf(llm.knowledgeDir);
  const offline = new OfflineResponder(knowledge);
  const model = chatModel(config);
  log.info(
    {
      provider: llm.provider,
      model: model?.model,
      base_url:
        model && redactUrl(llm.provider === 'ollama' ? llm.ollama.baseUrl : llm.openai.baseUrl),
      knowledge_documents: knowledge.size,
      web_search: llm.webSearchUrl ? redactUrl(llm.webSearchUrl) : 'unavailable',
      fallback: llm.fallback,
      event_type: 'responder_ready',
    },
    'Gerador de respostas pronto',
  );
  if (model === undefined) return offline;
  return new LlmResponder({
    model,
    knowledge,
    webSearch:
      llm.webSearchUrl === undefined
        ? undefined
        : new SearxngSearch({ baseUrl: llm.webSearchUrl, timeoutMs: WEB_SEARCH_TIMEOUT_MS }),
    fallback: llm.fallback === 'offline' ? offline : undefined,
    historyMessages: llm.historyMessages,
    passages: llm.ragPassages,
    breakerFailures: llm.breakerFailures,
    breakerCooldownMs: llm.breakerCooldownMs,
    timeoutMs: llm.timeoutMs,
    logger: log,
  });
}
