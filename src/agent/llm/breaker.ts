/**
 * A circuit breaker for the model server: after `failures` consecutive failures it stops
 * calling for `cooldownMs` and fails fast instead; then one trial call is let through, which
 * closes the circuit on success or opens it again on failure.
 *
 * Calls overlap (one per chat turn), so each call belongs to the generation of the circuit it
 * started in, and the generation changes whenever the circuit opens, lets a trial through or
 * closes. Only calls of the current generation change the state: a call started while the
 * circuit was closed that ends after it opened neither closes it (only the trial does) nor
 * counts one more failure.
 *
 * Only failures that say the server is unwell for everyone count (see `countsAsFailure`); a
 * failure caused by one request neither counts nor starts the count again.
 */
import { UpstreamError } from './errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Service named in the fast failures, e.g. "ollama". */
  service: string;
  /** Consecutive failures that open the circuit; 0 never opens it. @default 5 */
  failures?: number;
  /** How long an open circuit fails fast. @default 30000 */
  cooldownMs?: number;
  /** Milliseconds clock. @default Date.now */
  now?: () => number;
  /** Called when the circuit opens, with the failures counted. */
  onOpen?: (failures: number) => void;
  /** Called when a trial call succeeded and the circuit closed again. */
  onClose?: () => void;
}

/** HTTP statuses that count: the server is failing (5xx), overloaded (429), too slow (408), or
 * set up wrongly for every request (401, 403: the key; 404: the model or the address). */
const COUNTED_STATUSES = new Set([401, 403, 404, 408, 429]);

/**
 * Whether a failure says the server is unwell for every request, and so counts toward opening
 * the circuit: a timeout, a connection refused or reset, HTTP 5xx, 429, 408, 401, 403 or 404, a
 * malformed or empty reply, or one over the size limit. Other HTTP errors (400, 413, 422...) are
 * about one request (a conversation too long for the model's context, say) and do not count;
 * neither does anything that is not an UpstreamError.
 */
export function countsAsFailure(error: unknown): boolean {
  if (!(error instanceof UpstreamError)) return false;
  switch (error.failure) {
    case 'http': {
      const status = error.status ?? 500;
      return status >= 500 || COUNTED_STATUSES.has(status);
    }
    case 'circuit_open':
      return false;
    default:
      return true;
  }
}

export class CircuitBreaker {
  readonly #service: string;
  readonly #threshold: number;
  /** How long an open circuit fails fast. */
  readonly cooldownMs: number;
  readonly #now: () => number;
  readonly #onOpen: (failures: number) => void;
  readonly #onClose: () => void;
  #failures = 0;
  #openUntil: number | undefined;
  #trialRunning = false;
  #generation = 0;

  constructor(options: BreakerOptions) {
    this.#service = options.service;
    this.#threshold = options.failures ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30000;
    this.#now = options.now ?? Date.now;
    this.#onOpen = options.onOpen ?? (() => {});
    this.#onClose = options.onClose ?? (() => {});
  }

  get state(): BreakerState {
    if (this.#openUntil === undefined) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half_open';
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Whether run() would make the call now, rather than fail fast. */
  get accepting(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half_open' && !this.#trialRunning);
  }

  /** Runs `call` unless the circuit is open. Its counted failure adds one to the count, its
   * success starts the count again, and a trial's result closes or opens the circuit. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (!this.accepting) throw this.#fastFailure();
    const trial = this.state === 'half_open';
    if (trial) {
      this.#trialRunning = true;
      this.#generation += 1;
    }
    const generation = this.#generation;
    try {
      const result = await call();
      if (generation === this.#generation) {
        this.#failures = 0;
        if (trial) this.#close();
      }
      return result;
    } catch (error) {
      if (generation === this.#generation && countsAsFailure(error)) {
        this.#failures += 1;
        if (trial || (this.#threshold > 0 && this.#failures >= this.#threshold)) this.#open();
      }
      throw error;
    } finally {
      if (trial) this.#trialRunning = false;
    }
  }

  #open(): void {
    this.#generation += 1;
    this.#openUntil = this.#now() + this.cooldownMs;
    this.#onOpen(this.#failures);
  }

  #close(): void {
    this.#generation += 1;
    this.#openUntil = undefined;
    this.#onClose();
  }

  #fastFailure(): UpstreamError {
    const waitMs = Math.max(0, (this.#openUntil ?? 0) - this.#now());
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new UpstreamError(
      'circuit_open',
      this.#service,
      `not called after ${this.#failures} consecutive failures; next try in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}
