/**
 * Redis store on @redis/client: one string key per session (`${keyPrefix}${id}`) written with
 * its TTL in the same command, listed with SCAN plus one pipelined round trip per page (never
 * KEYS). It fails fast: no offline queue, and a deadline on connecting, on every command and on
 * closing, so a server that is down or frozen never hangs a caller.
 */
import { once } from 'node:events';
import { createClient, ErrorReply, type RedisClientType } from '@redis/client';
import type { Logger } from 'pino';
import { silentLogger } from '../../logger.js';
import { SessionCorruptError, StoreFullError, StoreUnavailableError } from '../errors.js';
import { isValidSessionId } from '../session-id.js';
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
import * as scripts from './redis-scripts.js';

// biome-ignore lint/complexity/noBannedTypes: the client's own defaults for "no modules, no functions"
type Client = RedisClientType<{}, {}, typeof scripts>;

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL, credentials and database included. */
  url: string;
  /** REDIS_KEY_PREFIX. @default "cql:session:" */
  keyPrefix?: string;
  /** Give up connecting (TCP, authentication, handshake) after this long. @default 2000 */
  connectTimeoutMs?: number;
  /** A command that has not answered after this long fails with StoreUnavailableError. The
   * outcome of a write that timed out is unknown: the server may still apply it. @default 500 */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/** Commands waiting in the client at once; past it, new ones fail instead of piling up. */
const MAX_QUEUED_COMMANDS = 10000;

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Settles like `promise`, or rejects with DeadlineError after `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const isWrongType = (reply: unknown) =>
  reply instanceof ErrorReply && reply.message.startsWith('WRONGTYPE');

/** Escapes SCAN glob characters so a prefix is matched literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisSessionStore implements SessionStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly client: Client;
  readonly #commandTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;

  private constructor(client: Client, options: RedisStoreOptions, logger: Logger) {
    this.client = client;
    this.keyPrefix = options.keyPrefix ?? 'cql:session:';
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#logger = logger;
  }

  /** Connects, or rejects with StoreUnavailableError (unreachable, frozen, refused password). */
  static async connect(options: RedisStoreOptions): Promise<RedisSessionStore> {
    const logger = options.logger ?? silentLogger();
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    let connected = false;
    const client: Client = createClient({
      url: options.url,
      scripts,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      // Every operation has its deadline here (#run), covering commands already sent; the
      // client's own timer (only for commands not yet sent) would be a second one per command.
      commandOptions: { timeout: 0 },
      // Redis Enterprise maintenance notifications: not used here.
      maintNotifications: 'disabled',
      socket: {
        connectTimeout: connectTimeoutMs,
        // Start-up fails at once (the caller falls back); a lost connection is retried with backoff.
        reconnectStrategy: (retries, cause) =>
          connected ? Math.min(50 * 2 ** retries, 1000) : new Error(cause.message, { cause }),
      },
    });
    let lastError = '';
    client.on('error', (error: Error) => {
      // Logged once per distinct failure, not once per reconnection attempt.
      if (connected && error.message !== lastError) {
        logger.warn(
          { event_type: 'redis_error', reason: error.message },
          'Erro na conexão com o Redis',
        );
      }
      lastError = error.message;
    });
    client.on('ready', () => {
      if (connected && lastError !== '') {
        logger.info({ event_type: 'redis_reconnected' }, 'Conexão com o Redis restabelecida');
      }
      lastError = '';
    });
    try {
      // The socket's connectTimeout covers TCP only; a frozen server accepts TCP and then never
      // answers the handshake, so the whole connection gets one deadline.
      await withDeadline(client.connect(), connectTimeoutMs);
      connected = true;
    } catch (error) {
      client.destroy();
      throw new StoreUnavailableError('redis', 'connect', reasonOf(error), { cause: error });
    }
    return new RedisSessionStore(client, options, logger);
  }

  get connected(): boolean {
    return this.client.isReady;
  }

  key(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  async get(id: string): Promise<string | null> {
    try {
      return await this.#run('get', () => this.client.get(this.key(id)));
    } catch (error) {
      if (isWrongType((error as Error).cause)) {
        throw new SessionCorruptError(id, 'the key holds a Redis value that is not a string');
      }
      throw error;
    }
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#run('set', () =>
      this.client.set(this.key(id), value, { expiration: { type: 'EX', value: ttlSeconds } }),
    );
  }

  async setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    const [outcome, storedVersion = -1] = await this.#run('set', () =>
      this.client.setIf(
        this.key(id),
        value,
        ttlSeconds,
        range.min,
        range.max,
        range.createdAt ?? '',
      ),
    );
    return {
      outcome: outcome === 1 ? 'written' : outcome === 2 ? 'identical' : 'conflict',
      storedVersion,
    };
  }

  async quarantine(id: string, unreadable?: string): Promise<void> {
    await this.#run('quarantine', () =>
      this.client.quarantine(
        this.key(id),
        this.key(`corrupt:${id}`),
        QUARANTINE_TTL_SECONDS,
        unreadable ?? '',
      ),
    );
  }

  /** Answers when Redis does; waits up to the connect timeout for a reconnection under way. */
  async ping(): Promise<void> {
    if (!this.client.isReady && this.client.isOpen) {
      const abort = AbortSignal.timeout(this.#connectTimeoutMs);
      try {
        await once(this.client, 'ready', { signal: abort });
      } catch (error) {
        throw new StoreUnavailableError('redis', 'ping', 'not reconnected yet', { cause: error });
      }
    }
    await this.#run('ping', () => this.client.ping());
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#run('delete', () => this.client.unlink(this.key(id)))) > 0;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.#run('exists', () => this.client.exists(this.key(id)))) > 0;
  }

  async ttl(id: string): Promise<number | null> {
    const seconds = await this.#run('ttl', () => this.client.ttl(this.key(id)));
    if (seconds === -1) return null;
    return seconds === -2 ? 0 : seconds;
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    return this.#run('list', async () => {
      const { cursor, keys } = await this.client.scan(options.cursor ?? '0', {
        MATCH: `${globEscape(this.keyPrefix)}*`,
        COUNT: Math.max(options.limit ?? 100, 100),
      });
      // Keys under the prefix whose suffix is not a session id (other tools' keys) are skipped.
      const ids = keys
        .map((key) => key.slice(this.keyPrefix.length))
        .filter((id) => isValidSessionId(id));
      const entries: StoredEntry[] = [];
      if (ids.length > 0) {
        const replies = await this.#readAll(ids, options.headBytes);
        ids.forEach((id, i) => {
          const value = replies[2 * i];
          const ttl = Number(replies[2 * i + 1]);
          if (isWrongType(value)) {
            this.#logger.error(
              { session_id: id, event_type: 'session_corrupt', reason: 'not a string value' },
              'Chave de sessão com tipo inválido no Redis',
            );
          } else if (typeof value === 'string' && value !== '' && ttl !== -2) {
            // (Expired or deleted between SCAN and the reads: GETRANGE answers "" and GET null.)
            entries.push({ id, value, ttl: ttl === -1 ? null : ttl });
          }
        });
      }
      return { entries, cursor: cursor === '0' ? undefined : cursor };
    });
  }

  async status(): Promise<StoreStatus> {
    const info = await this.#run('status', () => this.client.info());
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    return {
      backend: 'redis',
      connected: this.connected,
      evictedKeys: Number(field('evicted_keys') ?? 0),
      maxmemoryPolicy: field('maxmemory_policy'),
      maxmemoryBytes: Number(field('maxmemory') ?? 0),
      usedMemoryBytes: Number(field('used_memory') ?? 0),
      keyspaceHits: Number(field('keyspace_hits') ?? 0),
      keyspaceMisses: Number(field('keyspace_misses') ?? 0),
    };
  }

  /** Deletes every key under the prefix (sessions, quarantined values), with SCAN and UNLINK;
   * never FLUSHDB. With `dryRun`, only counts them. Returns the keys found. */
  async purge({ dryRun = false } = {}): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const page = await this.#run('purge', () =>
        this.client.scan(cursor, { MATCH: `${globEscape(this.keyPrefix)}*`, COUNT: 1000 }),
      );
      cursor = page.cursor;
      found.push(...page.keys);
      if (!dryRun && page.keys.length > 0)
        await this.#run('purge', () => this.client.unlink(page.keys));
    } while (cursor !== '0');
    return found;
  }

  /** Closes within the command deadline, dropping the connection if Redis does not answer. */
  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    try {
      await withDeadline(this.client.close(), this.#commandTimeoutMs);
    } catch {
      this.client.destroy();
    }
  }

  /** Value (or its first headBytes) and TTL of each id, in one pipelined round trip. Should a
   * key fail (one of another Redis type), the page is read again key by key, and that key's
   * error comes back in place of its value. */
  async #readAll(ids: string[], headBytes: number | undefined): Promise<unknown[]> {
    const commands = ids.flatMap((id) => {
      const key = this.key(id);
      const read = headBytes ? ['GETRANGE', key, '0', String(headBytes - 1)] : ['GET', key];
      return [read, ['TTL', key]];
    });
    const pipeline = this.client.multi();
    for (const args of commands) pipeline.addCommand(args);
    try {
      return await pipeline.execAsPipeline();
    } catch (error) {
      if (!(error instanceof ErrorReply)) throw error;
    }
    const replies = await Promise.allSettled(commands.map((args) => this.client.sendCommand(args)));
    return replies.map((reply) => {
      if (reply.status === 'fulfilled') return reply.value;
      if (reply.reason instanceof ErrorReply) return reply.reason;
      throw reply.reason; // The connection failed, not one key.
    });
  }

  /** Runs one operation under the command deadline; every failure becomes StoreUnavailableError. */
  async #run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(command(), this.#commandTimeoutMs);
    } catch (error) {
      const reason = reasonOf(error);
      this.#logger.debug(
        { event_type: 'redis_command_failed', operation, reason },
        'Comando Redis falhou',
      );
      if (error instanceof ErrorReply && /\bOOM\b/.test(error.message)) {
        throw new StoreFullError(operation, reason, { cause: error });
      }
      throw new StoreUnavailableError('redis', operation, reason, { cause: error });
    }
  }
}
