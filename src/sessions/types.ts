/**
 * The SessionStore contract every backend implements. Stores keep serialized values (strings)
 * under validated session ids with a TTL; decoding and validation live above them.
 */

export type StoreBackend = 'memory' | 'redis';

export interface StoredEntry {
  readonly id: string;
  /** The stored value; a prefix of it when `headBytes` was asked for. */
  readonly value: string;
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

export interface SessionStore {
  readonly name: StoreBackend;
  /** Whether the store can serve requests right now (always true in memory). */
  readonly connected: boolean;
  /** The value, or null if the session does not exist (or has expired). */
  get(id: string): Promise<string | null>;
  /** Writes the value and its TTL (seconds) in one step. */
  set(id: string, value: string, ttlSeconds: number): Promise<void>;
  /** Like set, only if the session does not exist yet; false when it already did. */
  setIfAbsent(id: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  exists(id: string): Promise<boolean>;
  /** Remaining seconds; null for an entry without expiry; 0 for a missing entry. */
  ttl(id: string): Promise<number | null>;
  /** One page of entries. Entries present for the whole listing are returned exactly once
   * (at least once for Redis, whose SCAN may repeat a key). */
  list(options?: ListOptions): Promise<ListPage>;
  close(): Promise<void>;
}
