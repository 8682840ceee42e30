/**
 * What conversations come to, for the operator: turns per minute, and problems started,
 * resolved and sent to a professional, by repair topic (the knowledge-base guide of the first
 * answer). Kept per day in hashes (`${prefix}outcomes:YYYY-MM-DD`, 90 days) that every instance
 * adds to: in Redis when the sessions are there, in memory otherwise. Counting never fails a
 * turn: a count that cannot be written is dropped, and logged. Counts are added up in the process
 * and written once a second: a turn costs no round trip, and the day's hash (one key, so one
 * Cluster shard) takes one write per instance per second, whatever the traffic.
 */
import type { AgentState } from '../agent/types.js';
import type { Logger } from '../logger.js';

/** How long a day's counts are kept. */
export const OUTCOME_DAYS_KEPT = 90;

/** The topic of problems whose first answer came from no guide. */
export const NO_TOPIC = '-';

export interface CountedTurn {
  /** The state the turn started from, and the one it left. */
  previousState: AgentState;
  state: AgentState;
  /** The knowledge-base guide of the problem's first answer, if any. */
  topic: string | undefined;
}

export interface OutcomeCounts {
  resolved: number;
  maxAttempts: number;
  /** Started and neither resolved nor sent to a professional (within the period). */
  open: number;
}

export interface OutcomeReport {
  /** The last 60 minutes, oldest first (the current minute last). */
  turnsPerMinute: Array<{ minute: string; turns: number }>;
  totals: OutcomeCounts;
  /** Topics with most problems first. */
  byTopic: Array<OutcomeCounts & { topic: string }>;
}

/** How often the counts added up in the process are written. */
export const FLUSH_INTERVAL_MS = 1000;

/** Where the day hashes live. */
export interface CounterBackend {
  /** Adds each increment to its field of the hash, which then lives `ttlSeconds`. */
  add(key: string, increments: Readonly<Record<string, number>>, ttlSeconds: number): Promise<void>;
  read(key: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const day = (at: Date) => at.toISOString().slice(0, 10);
const minuteOf = (at: Date) => at.toISOString().slice(11, 16);

/** The fields one turn adds 1 to. */
export function countedFields(turn: CountedTurn, at: Date): string[] {
  const topic = turn.topic ?? NO_TOPIC;
  const fields = [`turns|${minuteOf(at)}`];
  const fromFeedback = turn.previousState === 'waiting_feedback';
  if (!fromFeedback && turn.state === 'waiting_feedback') fields.push(`started|${topic}`);
  if (fromFeedback && turn.state === 'resolved') fields.push(`resolved|${topic}`);
  if (fromFeedback && turn.state === 'max_attempts') fields.push(`max_attempts|${topic}`);
  return fields;
}

export class OutcomeCounter {
  readonly #backend: CounterBackend;
  readonly #prefix: string;
  readonly #logger: Logger;
  /** Counts not written yet, by day hash and field. */
  #pending = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(backend: CounterBackend, keyPrefix: string, logger: Logger) {
    this.#backend = backend;
    this.#prefix = `${keyPrefix}outcomes:`;
    this.#logger = logger;
  }

  /** Counts one saved turn (written within FLUSH_INTERVAL_MS); never throws. */
  record(turn: CountedTurn, at: Date): void {
    const key = this.#prefix + day(at);
    const fields = this.#pending.get(key) ?? new Map<string, number>();
    for (const field of countedFields(turn, at)) fields.set(field, (fields.get(field) ?? 0) + 1);
    this.#pending.set(key, fields);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Writes the counts added up so far; a count that cannot be written is dropped, and logged. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = new Map();
    await Promise.all(
      [...pending].map(([key, fields]) =>
        this.#backend
          .add(key, Object.fromEntries(fields), OUTCOME_DAYS_KEPT * 86400)
          .catch((error: unknown) =>
            this.#logger.debug(
              { event_type: 'outcome_not_counted', reason: (error as Error).message },
              'Contagem de resultado descartada',
            ),
          ),
      ),
    );
  }

  /** Writes what is pending, then closes the counters' store. */
  async close(): Promise<void> {
    await this.flush();
    await this.#backend.close();
  }

  /** The last hour's turns, and the outcomes of the last `days` days (today included). */
  async report(now: Date, days: number): Promise<OutcomeReport> {
    // This instance's latest counts first.
    await this.flush();
    const dates = Array.from({ length: days }, (_, i) => new Date(now.getTime() - i * 86400000));
    const hashes = await Promise.all(dates.map((d) => this.#backend.read(this.#prefix + day(d))));

    const turnsPerMinute: OutcomeReport['turnsPerMinute'] = [];
    for (let i = 59; i >= 0; i--) {
      const at = new Date(now.getTime() - i * 60000);
      // Today's hash, or yesterday's for the minutes before midnight.
      const hash = hashes[day(at) === day(now) ? 0 : 1] ?? {};
      turnsPerMinute.push({
        minute: `${day(at)}T${minuteOf(at)}:00.000Z`,
        turns: hash[`turns|${minuteOf(at)}`] ?? 0,
      });
    }

    const topics = new Map<string, { started: number; resolved: number; maxAttempts: number }>();
    for (const hash of hashes) {
      for (const [field, count] of Object.entries(hash)) {
        const [kind, topic = NO_TOPIC] = field.split('|', 2);
        if (kind !== 'started' && kind !== 'resolved' && kind !== 'max_attempts') continue;
        const row = topics.get(topic) ?? { started: 0, resolved: 0, maxAttempts: 0 };
        if (kind === 'started') row.started += count;
        else if (kind === 'resolved') row.resolved += count;
        else row.maxAttempts += count;
        topics.set(topic, row);
      }
    }
    const byTopic = [...topics.entries()]
      .map(([topic, row]) => ({
        topic,
        resolved: row.resolved,
        maxAttempts: row.maxAttempts,
        open: Math.max(0, row.started - row.resolved - row.maxAttempts),
      }))
      .sort(
        (a, b) =>
          b.resolved + b.maxAttempts + b.open - (a.resolved + a.maxAttempts + a.open) ||
          (a.topic < b.topic ? -1 : 1),
      );
    const totals = byTopic.reduce(
      (sum, row) => ({
        resolved: sum.resolved + row.resolved,
        maxAttempts: sum.maxAttempts + row.maxAttempts,
        open: sum.open + row.open,
      }),
      { resolved: 0, maxAttempts: 0, open: 0 },
    );
    return { turnsPerMinute, totals, byTopic };
  }
}

/** Day hashes in this process: for a service without Redis. Days past OUTCOME_DAYS_KEPT go. */
export class MemoryCounters implements CounterBackend {
  readonly #hashes = new Map<string, { fields: Map<string, number>; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async add(
    key: string,
    increments: Readonly<Record<string, number>>,
    ttlSeconds: number,
  ): Promise<void> {
    const now = this.#now();
    for (const [stored, hash] of this.#hashes) {
      if (hash.expiresAt <= now) this.#hashes.delete(stored);
    }
    const hash = this.#hashes.get(key) ?? { fields: new Map(), expiresAt: 0 };
    hash.expiresAt = now + ttlSeconds * 1000;
    for (const [field, by] of Object.entries(increments)) {
      hash.fields.set(field, (hash.fields.get(field) ?? 0) + by);
    }
    this.#hashes.set(key, hash);
  }

  async read(key: string): Promise<Record<string, number>> {
    const hash = this.#hashes.get(key);
    if (!hash || hash.expiresAt <= this.#now()) return {};
    return Object.fromEntries(hash.fields);
  }

  async close(): Promise<void> {}
}
