/**
 * The Responder backed by a language model. For each solution it gathers context in the order
 * of the original assistant (knowledge base, then the web when the knowledge base had nothing,
 * then the model alone), asks the model through a circuit breaker, and on failure either lets
 * the error through or, with a fallback, has the offline responder answer instead.
 */

import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import type { KnowledgeIndex, Passage } from '../knowledge-index.js';
import type { Responder, SolutionReply, SolutionRequest, WebSearchStatus } from '../types.js';
import { CircuitBreaker } from './breaker.js';
import { UpstreamError } from './errors.js';
import type { ChatModel } from './model.js';
import { buildMessages } from './prompts.js';
import type { WebResult, WebSearch } from './web-search.js';

export interface LlmResponderOptions {
  model: ChatModel;
  /** Searched when a request has `useRag`. */
  knowledge: KnowledgeIndex;
  /** Asked when the knowledge base had nothing. @default none: web search is "unavailable" */
  webSearch?: WebSearch;
  /** Answers instead when the model fails. @default none: the failure is thrown */
  fallback?: Responder;
  /** Earlier messages of the conversation the model sees. @default 12 */
  historyMessages?: number;
  /** Knowledge-base passages given to the model. @default 3 */
  passages?: number;
  /** Consecutive failures that open the circuit (0: never). @default 5 */
  breakerFailures?: number;
  /** How long an open circuit fails fast. @default 30000 */
  breakerCooldownMs?: number;
  /** Milliseconds clock, for the breaker. @default Date.now */
  now?: () => number;
  /** @default silent */
  logger?: Logger;
}

interface WebContext {
  results: WebResult[];
  status: WebSearchStatus;
}

export class LlmResponder implements Responder {
  /** The provider's name: "ollama" or "openai". */
  readonly name: string;
  /** Guards the model calls; its state tells whether the model is being called. */
  readonly breaker: CircuitBreaker;
  readonly #model: ChatModel;
  readonly #knowledge: KnowledgeIndex;
  readonly #webSearch: WebSearch | undefined;
  readonly #fallback: Responder | undefined;
  readonly #historyMessages: number;
  readonly #passages: number;
  readonly #logger: Logger;

  constructor(options: LlmResponderOptions) {
    this.#model = options.model;
    this.name = options.model.provider;
    this.#knowledge = options.knowledge;
    this.#webSearch = options.webSearch;
    this.#fallback = options.fallback;
    this.#historyMessages = options.historyMessages ?? 12;
    this.#passages = options.passages ?? 3;
    const logger = options.logger ?? silentLogger();
    this.#logger = logger;
    const fields = { provider: this.name, model: this.#model.model };
    this.breaker = new CircuitBreaker({
      service: this.name,
      failures: options.breakerFailures,
      cooldownMs: options.breakerCooldownMs,
      now: options.now,
      onOpen: (failures) =>
        logger.warn(
          {
            ...fields,
            failures,
            cooldown_ms: options.breakerCooldownMs ?? 30000,
            event_type: 'llm_circuit_open',
          },
          'Modelo de linguagem falhando: chamadas suspensas temporariamente',
        ),
      onClose: () =>
        logger.info(
          { ...fields, event_type: 'llm_circuit_closed' },
          'Modelo de linguagem respondendo de novo',
        ),
    });
  }

  async solve(request: SolutionRequest): Promise<SolutionReply> {
    const passages = request.useRag
      ? this.#knowledge.passages(request.problem, {
          limit: this.#passages,
          attempt: request.attempt,
        })
      : [];
    const web = await this.#searchWeb(request, passages);
    const messages = buildMessages(
      request,
      { passages, webResults: web.results },
      this.#historyMessages,
    );
    const started = performance.now();
    try {
      const text = await this.breaker.run(() => this.#model.complete(messages));
      const sources = [...new Set(passages.map((p) => p.doc.id))];
      this.#logger.debug(
        {
          provider: this.name,
          model: this.#model.model,
          attempt: request.attempt,
          duration_ms: Math.round(performance.now() - started),
          sources,
          web_search: web.status,
          event_type: 'llm_reply',
        },
        'Resposta do modelo recebida',
      );
      return {
        text,
        needsDetails: false,
        sources,
        webSources: web.results.map((r) => r.url),
        webSearch: web.status,
        fallbackUsed: false,
      };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return this.#failed(request, error, performance.now() - started);
    }
  }

  async #failed(
    request: SolutionRequest,
    error: UpstreamError,
    elapsedMs: number,
  ): Promise<SolutionReply> {
    const fallback = this.#fallback;
    this.#logger.warn(
      {
        provider: this.name,
        model: this.#model.model,
        failure: error.failure,
        reason: error.message,
        url: error.url,
        duration_ms: Math.round(elapsedMs),
        fallback: fallback?.name ?? 'none',
        event_type: fallback ? 'llm_fallback' : 'llm_failed',
      },
      fallback
        ? 'Falha do modelo de linguagem: respondendo sem ele'
        : 'Falha do modelo de linguagem',
    );
    if (fallback === undefined) throw error;
    return { ...(await fallback.solve(request)), fallbackUsed: true };
  }

  async #searchWeb(request: SolutionRequest, passages: readonly Passage[]): Promise<WebContext> {
    if (!request.useWebSearch) return { results: [], status: 'disabled' };
    if (passages.length > 0) return { results: [], status: 'not_needed' };
    if (this.#webSearch === undefined) return { results: [], status: 'unavailable' };
    try {
      const results = await this.#webSearch.search(request.problem);
      return { results, status: results.length > 0 ? 'used' : 'no_results' };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      this.#logger.warn(
        { reason: error.message, url: error.url, event_type: 'web_search_failed' },
        'Busca na internet indisponível: respondendo sem ela',
      );
      return { results: [], status: 'unavailable' };
    }
  }
}
