/**
 * In-process store for development and as the fallback. It behaves like Redis: it keeps
 * serialized copies, hides and sweeps expired entries (unref'd timer), and is bounded: when
 * full it drops expired entries first, then the least recently used one, and logs each loss.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logger.js';
import { storedStamp } from '../codec.js';
import {
  type ConditionalWrite,
  type ListOptions,
  type ListPage,
  QUARANTINE_TTL_SECONDS,
  type SessionStore,
  type StoredEntry,
  type StoreStatus,
  type VersionRange,
} from '../types.js';

export interface MemoryStoreOptions {
  /** Entries kept before the least recently used is evicted (MEMORY_MAX_SESSIONS). @default 10000 */
  maxSessions?: number;
  /** How often expired entries are swept. @default 30000 */
  sweepIntervalMs?: number;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
  logger?: Logger;
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
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 10000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
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

  async quarantine(id: string, unreadable?: string): Promise<void> {
    const entry = this.#live(id);
    // Values here are always strings: without the value to move, there is nothing to move.
    if (entry === undefined || unreadable === undefined || entry.value !== unreadable) return;
    this.changes++;
    this.#entries.delete(id);
    if (this.#quarantined.size >= MAX_QUARANTINED) {
      this.#quarantined.delete(this.#quarantined.keys().next().value as string);
    }
    this.#quarantined.set(id, {
      value: entry.value,
      expiresAt: this.#now() + QUARANTINE_TTL_SECONDS * 1000,
    });
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

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = options.limit ?? 100;
    const after = options.cursor ?? '';
    // Pages follow id order, so entries present for the whole listing appear exactly once.
    const ids = [...this.#entries.keys()].filter((id) => id > after).sort();
    const entries: StoredEntry[] = [];
    let index = 0;
    for (; index < ids.length && entries.length < limit; index++) {
      const id = ids[index] as string;
      const entry = this.#live(id);
      if (entry)
        entries.push({ id, value: entry.value, ttl: secondsLeft(entry.expiresAt - this.#now()) });
    }
    const last = entries.at(-1);
    return { entries, cursor: index < ids.length && last ? last.id : undefined };
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
        this.#logger.warn(
          { session_id: id, max_sessions: this.maxSessions, event_type: 'session_evicted' },
          'Sessão descartada: limite de sessões em memória atingido (MEMORY_MAX_SESSIONS)',
        );
      }
    }
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
