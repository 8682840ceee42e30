/**
 * The SessionStore contract every backend implements. Stores keep serialized values (strings)
 * under validated session ids with a TTL; decoding and validation live above them.
 */

import { DEFAULTS } from '../config/defaults.js';

export type StoreBackend = 'memory' | 'redis';

export interface StoredEntry {
  readonly id: string;
  /** The stored value; a prefix of it when `headBytes` was asked for. */
  readonly value: string;
  /** Size of the whole stored value in bytes, when the store knows it without reading it. */
  readonly bytes?: number;
  /** Remaining seconds; null when the entry has no expiry. */
  readonly ttl: number | null;
}

export interface ListOptions {
  /** Where a previous page stopped; omit for the first page. */
  cursor?: string;
  /** Page size (a hint for Redis, whose SCAN may return a few more or fewer). @default 100 */
  limit?: number;
  /** The caller needs only the first bytes of each value; a store may return more. */
  headBytes?: number;
}

export interface ListPage {
  readonly entries: readonly StoredEntry[];
  /** Pass to the next call; undefined once the listing is complete. */
  readonly cursor: string | undefined;
}

/** The largest stored value a store reads, unless told otherwise: SESSION_MAX_BYTES's default. */
export const DEFAULT_MAX_VALUE_BYTES = DEFAULTS.sessionMaxBytes;

/** How long a quarantined value is kept for inspection. */
export const QUARANTINE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * What quarantine() did. `moved`: the value now lives under `movedTo` (a Redis key, or a name in
 * the memory store's own quarantine). `gone`: nothing is stored under the session any more
 * (expired, deleted, or moved by another caller). `replaced`: the session holds something else
 * than what was read (a session written meanwhile), left where it is.
 */
export type QuarantineResult =
  | { readonly outcome: 'moved'; readonly movedTo: string }
  | { readonly outcome: 'gone' }
  | { readonly outcome: 'replaced' };

/**
 * Which stored versions allow a conditional write; a missing session counts as version 0 and an
 * unreadable value as -1. `{min: v, max: v, createdAt}` is compare-and-set on version v of that
 * session (a session deleted and created again is another session, whatever its version);
 * `{min: -1, max: v - 1}` writes version v only over an older or unreadable one.
 */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
  /** When given, the stored session must also have been created at this time. */
  readonly createdAt?: string;
  /**
   * With min === max: the first bytes of the value of that version the writer read, through its
   * write id (codec writeStamp). A store that still holds them holds that very value, and may
   * write on that alone; otherwise the range decides, as without them.
   */
  readonly stamp?: string;
}

export interface ConditionalWrite {
  /** "identical": the store already held exactly this value. */
  readonly outcome: 'written' | 'identical' | 'conflict';
  /** Version stored before the call (0: none, -1: unreadable). */
  readonly storedVersion: number;
}

/**
 * Why a store that answers cannot do its whole job: `redis_oom`, Redis refuses writes for lack
 * of memory (maxmemory with noeviction); `redis_noperm`, the ACL user lacks a command or key
 * pattern the store needs.
 */
export type StoreDegradedReason = 'redis_oom' | 'redis_noperm';

/** Where a store stands; what each backend can tell. */
export interface StoreStatus {
  readonly backend: StoreBackend;
  readonly connected: boolean;
  /** Set while the store answers but refuses part of its work. */
  readonly degradedReason?: StoreDegradedReason;
  /** For operators: the commands refused, or Redis's own error. */
  readonly degradedDetail?: string;
  /** Keys Redis evicted under maxmemory since it started. */
  readonly evictedKeys?: number;
  readonly maxmemoryPolicy?: string;
  /** 0: no limit. */
  readonly maxmemoryBytes?: number;
  readonly usedMemoryBytes?: number;
  readonly keyspaceHits?: number;
  readonly keyspaceMisses?: number;
  /** How Redis is deployed: one server, a Cluster, or a master found through Sentinel. */
  readonly topology?: 'single' | 'cluster' | 'sentinel';
  /** Redis is configured, but sessions have been served from the memory copy since then. */
  readonly onMemorySince?: Date;
  /** Sessions changed or deleted on the memory copy, waiting to be written back to Redis. */
  readonly pendingWritebacks?: number;
  /** Values moved aside as unreadable (kept for inspection), when the store can count them. */
  readonly quarantined?: number;
}

export interface SessionStore {
  readonly name: StoreBackend;
  /** Whether the store can serve requests right now (always true in memory). */
  readonly connected: boolean;
  /** The value, or null if the session does not exist (or has expired). A value the store will
   * not hand out (larger than its size limit, not text, of another Redis type) is a
   * SessionCorruptError, and is not read whole. */
  get(id: string): Promise<string | null>;
  /** Writes the value and its TTL (seconds) in one step. */
  set(id: string, value: string, ttlSeconds: number): Promise<void>;
  /** Writes only if the stored version is within `range`, atomically. */
  setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite>;
  /**
   * Moves an unreadable value aside (kept QUARANTINE_TTL_SECONDS for inspection); the session is
   * then absent. `unreadable` is the value get() returned; without it (get() refused the value),
   * only a value get() would refuse again is moved. Either way a valid session written meanwhile
   * by someone else stays.
   */
  quarantine(id: string, unreadable?: string): Promise<QuarantineResult>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  exists(id: string): Promise<boolean>;
  /** Remaining seconds; null for an entry without expiry; 0 for a missing entry. */
  ttl(id: string): Promise<number | null>;
  /** One page of entries. Entries present for the whole listing are returned exactly once
   * (at least once for Redis, whose SCAN may repeat a key). */
  list(options?: ListOptions): Promise<ListPage>;
  status(): Promise<StoreStatus>;
  close(): Promise<void>;
}
