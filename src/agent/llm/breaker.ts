/**
 * A circuit breaker for the model server: after `failures` consecutive failures it stops
 * calling for `cooldownMs` and fails fast instead; then one trial call is let through, which
 * closes the circuit on success or opens it again on failure.
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

export class CircuitBreaker {
  readonly #service: string;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #onOpen: (failures: number) => void;
  readonly #onClose: () => void;
  #failures = 0;
  #openUntil: number | undefined;
  #trialRunning = false;

  constructor(options: BreakerOptions) {
    this.#service = options.service;
    this.#threshold = options.failures ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30000;
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

  /** Runs `call` unless the circuit is open; its failure counts, its success resets the count. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half_open' && this.#trialRunning))
      throw this.#fastFailure();
    const trial = state === 'half_open';
    if (trial) this.#trialRunning = true;
    try {
      const result = await call();
      this.#failures = 0;
      if (this.#openUntil !== undefined) {
        this.#openUntil = undefined;
        this.#onClose();
      }
      return result;
    } catch (error) {
      this.#failures += 1;
      if (trial || (this.#threshold > 0 && this.#failures === this.#threshold)) {
        this.#openUntil = this.#now() + this.#cooldownMs;
        this.#onOpen(this.#failures);
      }
      throw error;
    } finally {
      if (trial) this.#trialRunning = false;
    }
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
