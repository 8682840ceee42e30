/**
 * In-process store for development and as the fallback. It behaves like Redis: it keeps
 * serialized copies, hides and sweeps expired entries (unref'd timer), refuses to hand out a
 * value over its size limit, and is bounded: when full it drops expired entries first, then the
 * least recently used one, and logs each loss.
 */
import type { Logger } from 'pino';
import { DEFAULTS } from '../../config/defaults.js';
import { silentLogger } from '../../logger.js';
import { storedStamp } from '../codec.js';
import { SessionCorruptError } from '../errors.js';
import { describeCursor, memoryCursor, readCursor } from '../list-cursor.js';
import {
  type ConditionalWrite,
  DEFAULT_MAX_VALUE_BYTES,
  type ListOptions,
  type ListPage,
  QUARANTINE_TTL_SECONDS,
  type QuarantineResult,
  type SessionStore,
  type StoredEntry,
  type StoreStatus,
  type VersionRange,
} from '../types.js';

export interface MemoryStoreOptions {
  /** Entries kept before the least recently used is evicted (MEMORY_MAX_SESSIONS). @default 10000 */
  maxSessions?: number;
  /** SESSION_MAX_BYTES: a value larger than this (UTF-8 bytes) is refused by get(), as Redis
   * refuses it, and moved aside by quarantine(). @default 262144 */
  maxValueBytes?: number;
  /** How often expired entries are swept. @default 30000 */
  sweepIntervalMs?: number;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
  logger?: Logger;
  /** An eviction loses a session (WARNING), unless this store is only a copy of one kept
   * elsewhere (Redis's, for the failover): then dropping the least recently used is routine
   * (DEBUG). @default false */
  isCopy?: boolean;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/** Remaining whole seconds, rounded as Redis's TTL command rounds them. */
function secondsLeft(ms: number): number {
  return Math.floor((ms + 500) / 1000);
}

/** When full, expired entries are swept at most this often before a live one is evicted. */
const FULL_SWEEP_INTERVAL_MS = 1000;
const MAX_QUARANTINED = 1000;

export class MemorySessionStore implements SessionStore {
  readonly name = 'memory';
  readonly connected = true;
  readonly maxSessions: number;
  readonly maxValueBytes: number;
  /** Live entries dropped to stay within maxSessions since start. */
  evictions = 0;
  /** Writes, deletions and quarantines since start: what a snapshot compares to skip a store
   * that did not change. */
  changes = 0;
  // Map order is recency order: the first key is the least recently used.
  readonly #entries = new Map<string, Entry>();
  readonly #quarantined = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #sweeper: NodeJS.Timeout;
  readonly #isCopy: boolean;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? DEFAULTS.memoryMaxSessions;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
    this.#isCopy = options.isCopy ?? false;
    this.#sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30000);
    this.#sweeper.unref();
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(id: string): Promise<string | null> {
    const entry = this.#live(id);
    if (entry === undefined) return null;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    if (this.#tooLarge(entry.value)) {
      throw new SessionCorruptError(
        id,
        `the value is larger than ${this.maxValueBytes} bytes (SESSION_MAX_BYTES), so it was not read`,
      );
    }
    return entry.value;
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    this.changes++;
    this.#entries.delete(id);
    this.#entries.set(id, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
    if (this.#entries.size > this.maxSessions) this.#makeRoom();
  }

  async setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    const current = this.#live(id)?.value ?? null;
    const stamp = storedStamp(current);
    if (current === value) return { outcome: 'identical', storedVersion: stamp.version };
    const sameSession = range.createdAt === undefined || stamp.createdAt === range.createdAt;
    if (stamp.version < range.min || stamp.version > range.max || !sameSession) {
      return { outcome: 'conflict', storedVersion: stamp.version };
    }
    await this.set(id, value, ttlSeconds);
    return { outcome: 'written', storedVersion: stamp.version };
  }

  /** Moves the value to this store's own quarantine (named `memory:corrupt:<id>` in results):
   * the value given, or without one a value get() refuses (over the size limit). */
  async quarantine(id: string, unreadable?: string): Promise<QuarantineResult> {
    const entry = this.#live(id);
    if (entry === undefined) return { outcome: 'gone' };
    const refused =
      unreadable === undefined ? this.#tooLarge(entry.value) : entry.value === unreadable;
    if (!refused) return { outcome: 'replaced' };
    this.changes++;
    this.#entries.delete(id);
    if (this.#quarantined.size >= MAX_QUARANTINED) {
      this.#quarantined.delete(this.#quarantined.keys().next().value as string);
    }
    this.#quarantined.set(id, {
      value: entry.value,
      expiresAt: this.#now() + QUARANTINE_TTL_SECONDS * 1000,
    });
    return { outcome: 'moved', movedTo: `memory:corrupt:${id}` };
  }

  /** A value moved aside by quarantine(), for inspection. */
  quarantined(id: string): string | null {
    const entry = this.#quarantined.get(id);
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.value : null;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = this.#live(id) !== undefined && this.#entries.delete(id);
    if (deleted) this.changes++;
    return deleted;
  }

  async exists(id: string): Promise<boolean> {
    return this.#live(id) !== undefined;
  }

  async ttl(id: string): Promise<number | null> {
    const entry = this.#live(id);
    return entry === undefined ? 0 : secondsLeft(entry.expiresAt - this.#now());
  }

  /** Pages in id order, under `memory:` cursors; a cursor of another store starts over. */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = options.limit ?? 100;
    const after = this.#listingStart(options.cursor);
    // Pages follow id order, so entries present for the whole listing appear exactly once.
    const ids = [...this.#entries.keys()].filter((id) => id > after).sort();
    const entries: StoredEntry[] = [];
    let index = 0;
    for (; index < ids.length && entries.length < limit; index++) {
      const id = ids[index] as string;
      const entry = this.#live(id);
      if (entry === undefined) continue;
      // As on Redis: a value over the limit is never listed whole.
      if (options.headBytes === undefined && this.#tooLarge(entry.value)) {
        this.#logger.error(
          {
            session_id: id,
            event_type: 'session_corrupt',
            reason: 'larger than SESSION_MAX_BYTES',
          },
          'Sessão maior que o limite: fora da listagem',
        );
        continue;
      }
      entries.push({
        id,
        value: entry.value,
        ttl: secondsLeft(entry.expiresAt - this.#now()),
        bytes: Buffer.byteLength(entry.value),
      });
    }
    const last = entries.at(-1);
    return { entries, cursor: index < ids.length && last ? memoryCursor(last.id) : undefined };
  }

  /** A live entry's value and remaining seconds, whatever its size, without making it recently
   * used: what a failover writes back to Redis as it is. */
  peek(id: string): { value: string; ttl: number } | undefined {
    const entry = this.#live(id);
    return entry && { value: entry.value, ttl: secondsLeft(entry.expiresAt - this.#now()) };
  }

  async status(): Promise<StoreStatus> {
    return { backend: 'memory', connected: true };
  }

  /** Drops every expired entry; runs on a timer, callable directly. */
  sweep(): void {
    const now = this.#now();
    this.#lastSweep = now;
    for (const map of [this.#entries, this.#quarantined]) {
      for (const [id, entry] of map) {
        if (entry.expiresAt <= now) map.delete(id);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
    this.#quarantined.clear();
  }

  #makeRoom(): void {
    if (this.#now() - this.#lastSweep >= FULL_SWEEP_INTERVAL_MS) this.sweep();
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= this.maxSessions) break;
      const expired = this.#live(id) === undefined;
      this.#entries.delete(id);
      if (!expired) {
        this.evictions++;
        this.#logger[this.#isCopy ? 'debug' : 'warn'](
          { session_id: id, max_sessions: this.maxSessions, event_type: 'session_evicted' },
          'Sessão descartada: limite de sessões em memória atingido (MEMORY_MAX_SESSIONS)',
        );
      }
    }
  }

  /** A UTF-16 unit is at most 3 UTF-8 bytes: most values are known to fit without counting. */
  #tooLarge(value: string): boolean {
    return value.length * 3 > this.maxValueBytes && Buffer.byteLength(value) > this.maxValueBytes;
  }

  /** The id a listing continues after: '' (the start) for no cursor or another store's. */
  #listingStart(cursor: string | undefined): string {
    if (cursor === undefined) return '';
    const read = readCursor(cursor);
    if (read?.store === 'memory') return read.after;
    this.#logger.info(
      { event_type: 'session_listing_restarted', cursor: describeCursor(cursor) },
      'Cursor de listagem de outro armazenamento: a listagem recomeça do início',
    );
    return '';
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }
}
