/**
 * Redis store on @redis/client: one string key per session (`${keyPrefix}${id}`) written with
 * its TTL in the same command, listed with SCAN plus one pipelined round trip per page (never
 * KEYS). It fails fast: no offline queue, a bounded connect, and a deadline on every command.
 */
import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from 'pino';
import { silentLogger } from '../../logger.js';
import { StoreUnavailableError } from '../errors.js';
import { isValidSessionId } from '../session-id.js';
import type { ListOptions, ListPage, SessionStore, StoredEntry } from '../types.js';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL, credentials and database included. */
  url: string;
  /** REDIS_KEY_PREFIX. @default "cql:session:" */
  keyPrefix?: string;
  /** Give up connecting after this long. @default 2000 */
  connectTimeoutMs?: number;
  /** A command that has not answered after this long fails with StoreUnavailableError. @default 500 */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/** Escapes SCAN glob characters so a prefix is matched literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisSessionStore implements SessionStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly client: RedisClientType;
  readonly #commandTimeoutMs: number;
  readonly #logger: Logger;

  private constructor(client: RedisClientType, options: RedisStoreOptions, logger: Logger) {
    this.client = client;
    this.keyPrefix = options.keyPrefix ?? 'cql:session:';
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.#logger = logger;
  }

  /** Connects, or rejects with StoreUnavailableError (unreachable, refused password, timeout). */
  static async connect(options: RedisStoreOptions): Promise<RedisSessionStore> {
    const logger = options.logger ?? silentLogger();
    let connected = false;
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2000,
        // Start-up fails at once (the caller falls back); a lost connection is retried with backoff.
        reconnectStrategy: (retries, cause) =>
          connected ? Math.min(50 * 2 ** retries, 2000) : new Error(cause.message, { cause }),
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
      await client.connect();
      connected = true;
    } catch (error) {
      client.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreUnavailableError('redis', 'connect', reason, { cause: error });
    }
    return new RedisSessionStore(client, options, logger);
  }

  key(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  get(id: string): Promise<string | null> {
    return this.#run('get', () => this.client.get(this.key(id)));
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#run('set', () => this.client.set(this.key(id), value, { EX: ttlSeconds }));
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
        const pipeline = this.client.multi();
        for (const id of ids) {
          const key = this.key(id);
          if (options.headBytes) pipeline.getRange(key, 0, options.headBytes - 1);
          else pipeline.get(key);
          pipeline.ttl(key);
        }
        const replies = await pipeline.execAsPipeline();
        ids.forEach((id, i) => {
          const value = replies[2 * i];
          const ttl = Number(replies[2 * i + 1]);
          // Expired or deleted between SCAN and the reads: GETRANGE answers "" and GET null.
          if (typeof value === 'string' && value !== '' && ttl !== -2) {
            entries.push({ id, value, ttl: ttl === -1 ? null : ttl });
          }
        });
      }
      return { entries, cursor: cursor === '0' ? undefined : cursor };
    });
  }

  /** Waits for commands in flight when connected; drops the connection attempt otherwise. */
  async close(): Promise<void> {
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }

  /** Runs one operation under the command deadline; every failure becomes StoreUnavailableError. */
  async #run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.#commandTimeoutMs} ms`)),
        this.#commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([command(), deadline]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#logger.debug(
        { event_type: 'redis_command_failed', operation, reason },
        'Comando Redis falhou',
      );
      throw new StoreUnavailableError('redis', operation, reason, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
