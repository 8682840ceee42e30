/** Who writes the solutions: the knowledge base offline, or a language model (Ollama, an
 * OpenAI-compatible server), with its limits, breaker, fallback and web search. */
import { z } from 'zod';
import { PROBLEMS, RULES } from '../texts/config.js';
import { httpUrl, wholeNumber } from './values.js';

export const LLM_PROVIDERS = ['offline', 'ollama', 'openai'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

const LLM_FALLBACKS = ['none', 'offline'] as const;

export interface LlmConfig {
  /** LLM_PROVIDER: who writes the solutions. @default "offline" (the knowledge base, no network) */
  readonly provider: LlmProvider;
  readonly ollama: {
    /** OLLAMA_BASE_URL. @default "http://localhost:11434" */
    readonly baseUrl: string;
    /** OLLAMA_MODEL. @default "qwen2.5:3b" */
    readonly model: string;
  };
  readonly openai: {
    /** OPENAI_BASE_URL, up to the API version. @default "https://api.openai.com/v1" */
    readonly baseUrl: string;
    /** OPENAI_API_KEY: give it to the client, never to a log. @default none */
    readonly apiKey: string | undefined;
    /** OPENAI_MODEL. @default "gpt-4o-mini" */
    readonly model: string;
  };
  /** LLM_TIMEOUT (seconds), in milliseconds. @default 60000 */
  readonly timeoutMs: number;
  /** LLM_HISTORY_MESSAGES: earlier messages of the conversation the model sees; it can see only
   * what the session keeps, so at most MAX_HISTORY_MESSAGES of them. @default 12 */
  readonly historyMessages: number;
  /** LLM_MAX_TOKENS: longest reply asked of the model, in tokens. @default 1024 */
  readonly maxTokens: number;
  /** LLM_RAG_PASSAGES: knowledge-base passages given to the model. @default 3 */
  readonly ragPassages: number;
  /** LLM_BREAKER_FAILURES: consecutive failures that stop calls to the model; 0 never.
   * @default 5 */
  readonly breakerFailures: number;
  /** LLM_BREAKER_COOLDOWN (seconds), in milliseconds. @default 30000 */
  readonly breakerCooldownMs: number;
  /** LLM_FALLBACK: "offline" answers with the knowledge base when the model fails.
   * @default "none" */
  readonly fallback: 'none' | 'offline';
  /** WEB_SEARCH_URL: a SearxNG instance (JSON API). @default none: web search unavailable */
  readonly webSearchUrl: string | undefined;
  /** KNOWLEDGE_DIR: more repair files beside the bundled `knowledge/`. @default none */
  readonly knowledgeDir: string | undefined;
}

const modelName = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{1,200}$/, RULES.modelName);

export const llmVariables = {
  LLM_PROVIDER: z.enum(LLM_PROVIDERS, RULES.oneOf(LLM_PROVIDERS)).default('offline'),
  OLLAMA_BASE_URL: httpUrl.default('http://localhost:11434'),
  OLLAMA_MODEL: modelName.default('qwen2.5:3b'),
  OPENAI_BASE_URL: httpUrl.default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,1000}$/, RULES.printableNoSpaces)
    .optional(),
  OPENAI_MODEL: modelName.default('gpt-4o-mini'),
  LLM_TIMEOUT: wholeNumber(1, 3600).default(60),
  LLM_HISTORY_MESSAGES: wholeNumber(0, 1000).default(12),
  LLM_MAX_TOKENS: wholeNumber(16, 32768).default(1024),
  LLM_RAG_PASSAGES: wholeNumber(1, 20).default(3),
  LLM_BREAKER_FAILURES: wholeNumber(0, 1000).default(5),
  LLM_BREAKER_COOLDOWN: wholeNumber(1, 86400).default(30),
  LLM_FALLBACK: z.enum(LLM_FALLBACKS, RULES.oneOf(LLM_FALLBACKS)).default('none'),
  WEB_SEARCH_URL: httpUrl.optional(),
  KNOWLEDGE_DIR: z.string().trim().optional(),
};

type LlmEnv = z.output<z.ZodObject<typeof llmVariables>>;

/** The language-model settings, checked together; `{problem}` names what does not fit. */
export function llmConfig(env: LlmEnv): LlmConfig | { problem: string } {
  const openAiHost = new URL(env.OPENAI_BASE_URL).hostname;
  if (env.LLM_PROVIDER === 'openai' && openAiHost === 'api.openai.com' && !env.OPENAI_API_KEY) {
    return { problem: PROBLEMS.openaiApiKeyNeeded };
  }
  return {
    provider: env.LLM_PROVIDER,
    ollama: Object.freeze({ baseUrl: env.OLLAMA_BASE_URL, model: env.OLLAMA_MODEL }),
    openai: Object.freeze({
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.OPENAI_MODEL,
    }),
    timeoutMs: env.LLM_TIMEOUT * 1000,
    historyMessages: env.LLM_HISTORY_MESSAGES,
    maxTokens: env.LLM_MAX_TOKENS,
    ragPassages: env.LLM_RAG_PASSAGES,
    breakerFailures: env.LLM_BREAKER_FAILURES,
    breakerCooldownMs: env.LLM_BREAKER_COOLDOWN * 1000,
    fallback: env.LLM_FALLBACK,
    webSearchUrl: env.WEB_SEARCH_URL,
    knowledgeDir: env.KNOWLEDGE_DIR,
  };
}
