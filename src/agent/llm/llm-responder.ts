/**
 * The Responder backed by a language model. For each solution it gathers context in the order
 * of the original assistant (knowledge base, then the web when the knowledge base had nothing,
 * then the model alone), asks the model through a circuit breaker, and on failure either lets
 * the error through or, with a fallback, has the offline responder answer instead.
 *
 * With `timeoutMs`, a turn takes at most that long in all: the web search gets at most half of
 * it, and the model what is left. A streamed turn (`onDelta`) must pass on its first piece within
 * that time; after it, the model may stay silent at most `timeoutMs` at a time, and the turn
 * lasts at most `streamTimeoutMs`. Until the first piece, failures are handled as for a whole
 * reply (the breaker counts them, the fallback answers); after it, they are thrown with the
 * characters already passed on (`UpstreamError.sentChars`), since nothing can be taken back.
 */

import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import type { KnowledgeIndex, Passage } from '../knowledge-index.js';
import { relevanceScore } from '../relevance.js';
import type {
  Responder,
  SolutionReply,
  SolutionRequest,
  SolveOptions,
  WebSearchStatus,
} from '../types.js';
import { CircuitBreaker } from './breaker.js';
import { DeltaRelay } from './delta-relay.js';
import { UpstreamError } from './errors.js';
import { boundReply, type ChatModel, MAX_REPLY_CHARS, type ModelReply } from './model.js';
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
  /** A streamed turn ends within this, counted from its start; `timeoutMs` bounds the wait for
   * its first piece and then each silence of the model. @default 4 × timeoutMs (a reply of the
   * default 1024 tokens written at about 5 tokens a second on a CPU, with the default 60 s);
   * none without timeoutMs */
  streamTimeoutMs?: number;
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
  readonly #streamTimeoutMs: number | undefined;
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
    this.#streamTimeoutMs =
      options.streamTimeoutMs ??
      (options.timeoutMs === undefined ? undefined : 4 * options.timeoutMs);
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

  async solve(request: SolutionRequest, options: SolveOptions = {}): Promise<SolutionReply> {
    const { signal, onDelta } = options;
    signal?.throwIfAborted();
    const turnStarted = performance.now();
    const elapsed = () => performance.now() - turnStarted;
    const passages = request.useRag
      ? this.#knowledge.passages(request.problem, {
          limit: this.#passages,
          attempt: request.attempt,
        })
      : [];
    const web = await this.#searchWeb(request, passages, signal);
    const messages = buildMessages(
      request,
      { passages, webResults: web.results },
      this.#historyMessages,
    );
    const started = performance.now();
    const fields = { provider: this.name, model: this.#model.model, attempt: request.attempt };
    const relay =
      onDelta &&
      new DeltaRelay(onDelta, { attempt: request.attempt, maxAttempts: request.maxAttempts });
    try {
      const reply = await this.breaker.run((): Promise<ModelReply> => {
        const timeoutMs = this.#left(elapsed());
        if (relay === undefined) return this.#model.complete(messages, { timeoutMs, signal });
        return this.#model.stream(messages, {
          timeoutMs,
          idleTimeoutMs: this.#timeoutMs,
          maxDurationMs:
            this.#streamTimeoutMs === undefined
              ? undefined
              : Math.max(1, this.#streamTimeoutMs - elapsed()),
          maxChars: MAX_REPLY_CHARS,
          signal,
          onText: (text) => relay.push(text),
        });
      });
      relay?.end();
      const sources = [...new Set(passages.map((p) => p.doc.id))];
      if (reply.truncated) {
        this.#logger.warn(
          { ...fields, event_type: 'llm_reply_truncated' },
          'Resposta do modelo interrompida no limite de tokens (LLM_MAX_TOKENS)',
        );
      }
      // A streamed reply comes already bounded, and says how much more there was.
      const text = relay === undefined ? boundReply(reply.text) : reply.text;
      const received = reply.received ?? reply.text.length;
      if (text.length < received) {
        this.#logger.warn(
          {
            ...fields,
            characters: received,
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
          streamed: relay !== undefined,
          first_delta_ms: relay?.firstAfterMs && Math.round(relay.firstAfterMs),
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
        relevanceScore: relevanceScore(request.problem, passages),
      };
    } catch (error) {
      // The caller gave up (its client left): nothing to report, nothing to fall back on.
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof UpstreamError)) throw error;
      const elapsedMs = performance.now() - started;
      const sentChars = relay?.sentChars ?? 0;
      if (sentChars > 0) {
        this.#logFailure(error, elapsedMs, undefined, sentChars);
        throw error.withSentChars(sentChars);
      }
      return this.#failed(request, error, web, elapsedMs, options);
    }
  }

  /** What is left of the turn's time for the model; undefined without a turn deadline. */
  #left(elapsedMs: number): number | undefined {
    return this.#timeoutMs === undefined ? undefined : Math.max(1, this.#timeoutMs - elapsedMs);
  }

  #logFailure(
    error: UpstreamError,
    elapsedMs: number,
    fallback: Responder | undefined,
    sentChars = 0,
  ): void {
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
        ...(sentChars > 0 ? { sent_chars: sentChars } : {}),
        event_type: fallback ? 'llm_fallback' : 'llm_failed',
      },
      fallback
        ? 'Falha do modelo de linguagem: respondendo sem ele'
        : sentChars > 0
          ? 'Falha do modelo de linguagem no meio da resposta'
          : 'Falha do modelo de linguagem',
    );
  }

  async #failed(
    request: SolutionRequest,
    error: UpstreamError,
    web: WebContext,
    elapsedMs: number,
    options: SolveOptions,
  ): Promise<SolutionReply> {
    const fallback = this.#fallback;
    this.#logFailure(error, elapsedMs, fallback);
    if (fallback === undefined) throw error;
    // The fallback never searches the web: the turn still reports the search that happened.
    return {
      ...(await fallback.solve(request, options)),
      webSearch: web.status,
      webSources: web.results.map((r) => r.url),
      fallbackUsed: true,
    };
  }

  async #searchWeb(
    request: SolutionRequest,
    passages: readonly Passage[],
    signal: AbortSignal | undefined,
  ): Promise<WebContext> {
    if (!request.useWebSearch) return { results: [], status: 'disabled' };
    if (passages.length > 0) return { results: [], status: 'not_needed' };
    if (this.#webSearch === undefined) return { results: [], status: 'unavailable' };
    // The model would not be called (its circuit is open): searching would only delay the
    // fast failure or the fallback, and load the search service for nothing.
    if (!this.breaker.accepting) return { results: [], status: 'unavailable' };
    try {
      // At most half of the turn's time: the model keeps the other half at least.
      const timeoutMs = this.#timeoutMs === undefined ? undefined : this.#timeoutMs / 2;
      const results = await this.#webSearch.search(request.problem, { timeoutMs, signal });
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
