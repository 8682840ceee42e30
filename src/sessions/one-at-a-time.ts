/** Runs the tasks given for one key one after the other, in the order given; tasks for other keys
 * run alongside. A session's turns in this process use it, so a turn that calls a language model
 * is not run again because a neighbour saved first (between processes, compare-and-set decides). */
export class OneAtATime {
  /** The end of each key's queue. */
  readonly #queues = new Map<string, Promise<void>>();

  /** Runs `task` after the tasks already queued for `key`. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key);
    let done = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.#queues.set(key, tail);
    try {
      if (previous) await previous;
      return await task();
    } finally {
      done();
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }
}
