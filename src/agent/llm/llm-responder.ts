/**
 * The Responder backed by a language model. For each solution it gathers context in the order
 * of the original assistant (knowledge base, then the web when the knowledge base had nothing,
 * then the model alone), asks the model through a circuit breaker, and on failure either lets
 * the error through or, with a fallback, has the offline responder answer instead.
 *
 * With `timeoutMs`, a turn takes at most that long in all: the web search gets at most half of
 * it, and the model what is left.
 */

import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import type { KnowledgeIndex, Passage } from '../knowledge-index.js';
import type { Responder, SolutionReply, SolutionRequest, WebSearchStatus } from '../types.js';
import { CircuitBreaker } from './breaker.js';
import { UpstreamError } from './errors.js';
import { boundReply, type ChatModel, MAX_REPLY_CHARS } from './model.js';
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
  /** The whole turn (web search and model call) ends within this (LLM_TIMEOUT).
   * @default none: each call has only its own deadline */
  timeoutMs?: number;
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
  readonly #timeoutMs: number | undefined;
  readonly #logger: Logger;

  constructor(options: LlmResponderOptions) {
    this.#model = options.model;
    this.name = options.model.provider;
    this.#knowledge = options.knowledge;
    this.#webSearch = options.webSearch;
    this.#fallback = options.fallback;
    this.#historyMessages = options.historyMessages ?? 12;
    this.#passages = options.passages ?? 3;
    this.#timeoutMs = options.timeoutMs;
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
            cooldown_ms: this.breaker.cooldownMs,
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
    const turnStarted = performance.now();
    const left = () =>
      this.#timeoutMs === undefined
        ? undefined
        : Math.max(1, this.#timeoutMs - (performance.now() - turnStarted));
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
    const fields = { provider: this.name, model: this.#model.model, attempt: request.attempt };
    try {
      const timeoutMs = left();
      const reply = await this.breaker.run(() =>
        this.#model.complete(messages, timeoutMs === undefined ? {} : { timeoutMs }),
      );
      const sources = [...new Set(passages.map((p) => p.doc.id))];
      if (reply.truncated) {
        this.#logger.warn(
          { ...fields, event_type: 'llm_reply_truncated' },
          'Resposta do modelo interrompida no limite de tokens (LLM_MAX_TOKENS)',
        );
      }
      const text = boundReply(reply.text);
      if (text.length < reply.text.length) {
        this.#logger.warn(
          {
            ...fields,
            characters: reply.text.length,
            kept: text.length,
            event_type: 'llm_reply_shortened',
          },
          `Resposta do modelo maior que ${MAX_REPLY_CHARS} caracteres: cortada`,
        );
      }
      this.#logger.debug(
        {
          ...fields,
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
      return this.#failed(request, error, web, performance.now() - started);
    }
  }

  async #failed(
    request: SolutionRequest,
    error: UpstreamError,
    web: WebContext,
    elapsedMs: number,
  ): Promise<SolutionReply> {
    const fallback = this.#fallback;
    this.#logger.warn(
      {
        provider: this.name,
        model: this.#model.model,
        failure: error.failure,
        status: error.status,
        reason: error.message,
        upstream_reason: error.upstreamReason,
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
    // The fallback never searches the web: the turn still reports the search that happened.
    return {
      ...(await fallback.solve(request)),
      webSearch: web.status,
      webSources: web.results.map((r) => r.url),
      fallbackUsed: true,
    };
  }

  async #searchWeb(request: SolutionRequest, passages: readonly Passage[]): Promise<WebContext> {
    if (!request.useWebSearch) return { results: [], status: 'disabled' };
    if (passages.length > 0) return { results: [], status: 'not_needed' };
    if (this.#webSearch === undefined) return { results: [], status: 'unavailable' };
    // The model would not be called (its circuit is open): searching would only delay the
    // fast failure or the fallback, and load the search service for nothing.
    if (!this.breaker.accepting) return { results: [], status: 'unavailable' };
    try {
      // At most half of the turn's time: the model keeps the other half at least.
      const timeoutMs = this.#timeoutMs === undefined ? undefined : this.#timeoutMs / 2;
      const results = await this.#webSearch.search(
        request.problem,
        timeoutMs === undefined ? {} : { timeoutMs },
      );
      return { results, status: results.length > 0 ? 'used' : 'no_results' };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      this.#logger.warn(
        {
          failure: error.failure,
          reason: error.message,
          upstream_reason: error.upstreamReason,
          url: error.url,
          event_type: 'web_search_failed',
        },
        'Busca na internet indisponível: respondendo sem ela',
      );
      return { results: [], status: 'unavailable' };
    }
  }
}
