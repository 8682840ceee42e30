/** Passes a model's streamed text on as a solution's pieces, holding a later attempt's
 * beginning until the agent can frame it, and counting what was passed on. */
import { type Framing, frameDecided } from '../reply-writer.js';
import type { DeltaInfo, DeltaListener } from '../types.js';

/** A model never writes a request for details. */
const SOLUTION: DeltaInfo = { needsDetails: false };

export class DeltaRelay {
  readonly #listener: DeltaListener;
  readonly #framing: Framing;
  readonly #startedAt = performance.now();
  #held = '';
  #sentChars = 0;
  #firstAfterMs: number | undefined;

  constructor(listener: DeltaListener, framing: Framing) {
    this.#listener = listener;
    this.#framing = framing;
  }

  /** Characters passed on: above 0, nothing can be taken back (no fallback any more). While a
   * beginning is held, it is 0: nothing has reached the client. */
  get sentChars(): number {
    return this.#sentChars;
  }

  /** Milliseconds from the relay's creation to its first piece passed on. */
  get firstAfterMs(): number | undefined {
    return this.#firstAfterMs;
  }

  /** One more piece of the model's clean text. */
  push(text: string): void {
    if (this.#sentChars === 0 && !frameDecided(this.#held + text, this.#framing)) {
      this.#held += text;
      return;
    }
    const piece = this.#held + text;
    this.#held = '';
    this.#pass(piece);
  }

  /** The reply is complete: passes on what is still held (a short reply). */
  end(): void {
    if (this.#held === '') return;
    const piece = this.#held;
    this.#held = '';
    this.#pass(piece);
  }

  #pass(text: string): void {
    this.#firstAfterMs ??= performance.now() - this.#startedAt;
    this.#sentChars += text.length;
    this.#listener(text, SOLUTION);
  }
}
