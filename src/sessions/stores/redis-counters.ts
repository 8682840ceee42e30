/**
 * The outcome counters' day hashes in Redis (HINCRBY, EXPIRE, HGETALL), shared by every
 * instance. They have their own connection, opened at the first count: the sessions' connection
 * is switched to memory in an outage, and counting must never wait on it or slow it down. While
 * Redis is away counts fail fast (they are dropped by the caller) and the connection is tried
 * again a few seconds later.
 */

import { StoreUnavailableError } from '../errors.js';
import type { CounterBackend } from '../outcomes.js';
import type { RedisConnection } from './redis-connection.js';

/** The node-redis client behind `RedisConnection.keys` (single, Sentinel or Cluster) routes
 * these by key as it does the session commands. */
interface HashCommands {
  hIncrBy(key: string, field: string, increment: number): Promise<number>;
  expire(key: string, seconds: number): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
}

/** After a failed connection, the next attempt waits this long. */
const RETRY_AFTER_MS = 5000;

export class RedisCounters implements CounterBackend {
  readonly #open: () => Promise<RedisConnection>;
  readonly #timeoutMs: number;
  #connection: Promise<RedisConnection> | undefined;
  #retryAt = 0;
  #closed = false;

  /** `open` makes and connects a new connection; `timeoutMs` bounds each call. */
  constructor(open: () => Promise<RedisConnection>, timeoutMs: number) {
    this.#open = open;
    this.#timeoutMs = timeoutMs;
  }

  async add(
    key: string,
    increments: Readonly<Record<string, number>>,
    ttlSeconds: number,
  ): Promise<void> {
    // Sent together: one round trip (node-redis pipelines the commands of one tick).
    await this.#run('count', (redis) =>
      Promise.all([
        ...Object.entries(increments).map(([field, by]) => redis.hIncrBy(key, field, by)),
        redis.expire(key, ttlSeconds),
      ]),
    );
  }

  async read(key: string): Promise<Record<string, number>> {
    const hash = await this.#run('read counts', (redis) => redis.hGetAll(key));
    return Object.fromEntries(Object.entries(hash).map(([field, n]) => [field, Number(n) || 0]));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }

  async #run<T>(operation: string, work: (redis: HashCommands) => Promise<T>): Promise<T> {
    const connection = await this.#connect(operation);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError('redis', operation, 'timed out')),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([work(connection.keys as unknown as HashCommands), deadline]);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError('redis', operation, (error as Error).message, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async #connect(operation: string): Promise<RedisConnection> {
    if (this.#closed) throw new StoreUnavailableError('redis', operation, 'closed');
    if (this.#connection === undefined) {
      if (Date.now() < this.#retryAt) {
        throw new StoreUnavailableError('redis', operation, 'not connected');
      }
      this.#connection = this.#open().catch((error: unknown) => {
        this.#connection = undefined;
        this.#retryAt = Date.now() + RETRY_AFTER_MS;
        throw new StoreUnavailableError('redis', operation, (error as Error).message, {
          cause: error,
        });
      });
    }
    const connection = await this.#connection;
    if (!connection.isReady) throw new StoreUnavailableError('redis', operation, 'not connected');
    return connection;
  }
}
