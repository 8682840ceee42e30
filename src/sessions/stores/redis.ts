/**
 * Redis store on @redis/client: one string key per session (`${keyPrefix}${id}`) written with
 * its TTL in the same command, listed with SCAN plus one pipelined round trip per page (never
 * KEYS). On a single server, a Cluster (every master scanned in turn) or a master found through
 * Sentinel; every command touches one key, so each runs in one slot. It fails fast: no offline
 * queue, and a deadline on connecting, on every command and on closing, so a server that is down
 * or frozen never hangs a caller.
 */
import { once } from 'node:events';
import { ErrorReply } from '@redis/client';
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
import {
  createRedisConnection,
  type KeyspaceNode,
  type RedisConnection,
  type RedisConnectionOptions,
} from './redis-connection.js';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL, credentials and database included; for a Cluster or Sentinel,
   * the credentials and the scheme (rediss:// for TLS). */
  url: string;
  /** Seed nodes of a Redis Cluster. @default none: a single server */
  cluster?: RedisConnectionOptions['cluster'];
  /** Sentinels and the master name. @default none: a single server */
  sentinel?: RedisConnectionOptions['sentinel'];
  /** PEM contents of a private CA, and of a client certificate and key. @default none */
  tls?: RedisConnectionOptions['tls'];
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

/** A listing's cursor: `<node address>|<that node's SCAN cursor>`. The address, not a position:
 * should the masters change between two pages, a cursor is never replayed on another node. */
function parseCursor(cursor: string | undefined): { address: string; cursor: string } | undefined {
  const bar = cursor?.lastIndexOf('|') ?? -1;
  if (cursor === undefined || bar === -1) return undefined;
  return { address: cursor.slice(0, bar), cursor: cursor.slice(bar + 1) };
}

/** A connection error in words an operator can act on. */
function explain(error: unknown, url: string): string {
  const reason = reasonOf(error);
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(reason)) {
    return `authentication failed (wrong user name or password): ${reason}`;
  }
  if (/certificate|self[- ]signed|SSL|TLS|wrong version number|CERT_/i.test(reason)) {
    return `TLS handshake failed: ${reason}`;
  }
  if (/Socket closed unexpectedly|ECONNRESET/i.test(reason) && url.startsWith('redis:')) {
    return `${reason} (a server that only speaks TLS closes plain-text connections: use rediss://)`;
  }
  return reason;
}

export class RedisSessionStore implements SessionStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly connection: RedisConnection;
  readonly #commandTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;

  private constructor(connection: RedisConnection, options: RedisStoreOptions, logger: Logger) {
    this.connection = connection;
    this.keyPrefix = options.keyPrefix ?? 'cql:session:';
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#logger = logger;
  }

  /** Connects, or rejects with StoreUnavailableError (unreachable, frozen, refused password,
   * refused certificate). */
  static async connect(options: RedisStoreOptions): Promise<RedisSessionStore> {
    const logger = options.logger ?? silentLogger();
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    const connection = createRedisConnection({
      url: options.url,
      cluster: options.cluster,
      sentinel: options.sentinel,
      tls: options.tls,
      connectTimeoutMs,
      // A lost connection is retried with backoff.
      reconnectDelay: (retries) => Math.min(50 * 2 ** retries, 1000),
      maxQueuedCommands: MAX_QUEUED_COMMANDS,
    });
    let lastError = '';
    connection.on('error', (error: Error) => {
      // Logged once per distinct failure, not once per reconnection attempt.
      if (connection.started && error.message !== lastError) {
        logger.warn(
          { event_type: 'redis_error', reason: error.message },
          'Erro na conexão com o Redis',
        );
      }
      lastError = error.message;
    });
    connection.on('ready', () => {
      if (connection.started && lastError !== '') {
        logger.info({ event_type: 'redis_reconnected' }, 'Conexão com o Redis restabelecida');
      }
      lastError = '';
    });
    try {
      // The socket's connectTimeout covers TCP only; a frozen server accepts TCP and then never
      // answers the handshake, so the whole connection gets one deadline.
      await withDeadline(connection.connect(), connectTimeoutMs);
    } catch (error) {
      connection.destroy();
      const reason = explain(lastError !== '' ? new Error(lastError) : error, options.url);
      throw new StoreUnavailableError('redis', 'connect', reason, { cause: error });
    }
    return new RedisSessionStore(connection, options, logger);
  }

  get connected(): boolean {
    return this.connection.isReady;
  }

  key(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  async get(id: string): Promise<string | null> {
    try {
      return await this.#run('get', () => this.connection.keys.get(this.key(id)));
    } catch (error) {
      if (isWrongType((error as Error).cause)) {
        throw new SessionCorruptError(id, 'the key holds a Redis value that is not a string');
      }
      throw error;
    }
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#run('set', () =>
      this.connection.keys.set(this.key(id), value, {
        expiration: { type: 'EX', value: ttlSeconds },
      }),
    );
  }

  async setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    const [outcome, storedVersion = -1] = await this.#run('set', () =>
      this.connection.keys.setIf(
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

  /** Copies the unreadable value aside (DUMP and RESTORE work across Cluster slots), then
   * deletes the key if it still holds that value. Each step checks the value, so the copy is
   * always the unreadable one, and a valid session written meanwhile is never touched. */
  async quarantine(id: string, unreadable?: string): Promise<void> {
    const key = this.key(id);
    const payload = await this.#run('quarantine', () =>
      this.connection.dumpIf(key, unreadable ?? ''),
    );
    if (payload === null) return;
    const keys = this.connection.keys;
    await this.#run('quarantine', () =>
      keys.restore(this.key(`corrupt:${id}`), QUARANTINE_TTL_SECONDS * 1000, payload, {
        REPLACE: true,
      }),
    );
    await this.#run('quarantine', () => keys.deleteIf(key, unreadable ?? ''));
  }

  /** Answers when Redis does; waits up to the connect timeout for a reconnection under way. */
  async ping(): Promise<void> {
    if (!this.connection.isReady && this.connection.isOpen) {
      const abort = AbortSignal.timeout(this.#connectTimeoutMs);
      try {
        await once(this.connection, 'ready', { signal: abort });
      } catch (error) {
        throw new StoreUnavailableError('redis', 'ping', 'not reconnected yet', { cause: error });
      }
    }
    await this.#run('ping', async () => {
      await Promise.all((await this.connection.nodes()).map((node) => node.ping()));
    });
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#run('delete', () => this.connection.keys.unlink(this.key(id)))) > 0;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.#run('exists', () => this.connection.keys.exists(this.key(id)))) > 0;
  }

  async ttl(id: string): Promise<number | null> {
    const seconds = await this.#run('ttl', () => this.connection.keys.ttl(this.key(id)));
    if (seconds === -1) return null;
    return seconds === -2 ? 0 : seconds;
  }

  /** One page from one node at a time; the cursor says which node and where in it. */
  list(options: ListOptions = {}): Promise<ListPage> {
    return this.#run('list', async () => {
      const nodes = await this.connection.nodes();
      if (nodes.length === 0) throw new Error('no master is reachable');
      const position = parseCursor(options.cursor) ?? { address: nodes[0]?.address, cursor: '0' };
      const index = nodes.findIndex((node) => node.address === position.address);
      const node = nodes[index];
      if (!node) {
        throw new Error(
          `the listing was on ${position.address}, which is no longer a master: start it again`,
        );
      }
      const page = await node.scan(
        position.cursor,
        `${globEscape(this.keyPrefix)}*`,
        Math.max(options.limit ?? 100, 100),
      );
      const entries = await this.#entries(node, page.keys, options.headBytes);
      const following = nodes[index + 1];
      const next =
        page.cursor !== '0'
          ? `${node.address}|${page.cursor}`
          : following
            ? `${following.address}|0`
            : undefined;
      return { entries, cursor: next };
    });
  }

  /** INFO of every master, added up (memory, evictions, hits) for a Cluster. */
  async status(): Promise<StoreStatus> {
    const infos = await this.#run('status', async () =>
      Promise.all((await this.connection.nodes()).map((node) => node.info())),
    );
    const field = (info: string, name: string) =>
      new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const sum = (name: string) =>
      infos.reduce((total, info) => total + Number(field(info, name) ?? 0), 0);
    const first = infos[0] ?? '';
    return {
      backend: 'redis',
      connected: this.connected,
      evictedKeys: sum('evicted_keys'),
      maxmemoryPolicy: field(first, 'maxmemory_policy'),
      maxmemoryBytes: sum('maxmemory'),
      usedMemoryBytes: sum('used_memory'),
      keyspaceHits: sum('keyspace_hits'),
      keyspaceMisses: sum('keyspace_misses'),
    };
  }

  /** Deletes every key under the prefix (sessions, quarantined values), with SCAN and UNLINK;
   * never FLUSHDB. With `dryRun`, only counts them. Returns the keys found. */
  async purge({ dryRun = false } = {}): Promise<string[]> {
    const found: string[] = [];
    for (const node of await this.#run('purge', () => this.connection.nodes())) {
      let cursor = '0';
      do {
        const page = await this.#run('purge', () =>
          node.scan(cursor, `${globEscape(this.keyPrefix)}*`, 1000),
        );
        cursor = page.cursor;
        found.push(...page.keys);
        // One UNLINK per key: on a Cluster, keys of different slots cannot share a command.
        if (!dryRun && page.keys.length > 0) {
          await this.#run('purge', () => node.pipeline(page.keys.map((key) => ['UNLINK', key])));
        }
      } while (cursor !== '0');
    }
    return found;
  }

  /** Closes within the command deadline, dropping the connection if Redis does not answer. */
  async close(): Promise<void> {
    if (!this.connection.isOpen) return;
    try {
      await withDeadline(this.connection.close(), this.#commandTimeoutMs);
    } catch {
      this.connection.destroy();
    }
  }

  /** The sessions among `keys` (all on `node`), skipping keys under the prefix whose suffix is
   * not a session id (other tools' keys) and keys gone since the SCAN. */
  async #entries(
    node: KeyspaceNode,
    keys: readonly string[],
    headBytes: number | undefined,
  ): Promise<StoredEntry[]> {
    const ids = keys
      .map((key) => key.slice(this.keyPrefix.length))
      .filter((id) => isValidSessionId(id));
    const entries: StoredEntry[] = [];
    if (ids.length === 0) return entries;
    const replies = await this.#readAll(node, ids, headBytes);
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
    return entries;
  }

  /** Value (or its first headBytes) and TTL of each id, in one pipelined round trip. Should a
   * key fail (one of another Redis type), the page is read again key by key, and that key's
   * error comes back in place of its value. */
  async #readAll(
    node: KeyspaceNode,
    ids: string[],
    headBytes: number | undefined,
  ): Promise<unknown[]> {
    const commands = ids.flatMap((id) => {
      const key = this.key(id);
      const read = headBytes ? ['GETRANGE', key, '0', String(headBytes - 1)] : ['GET', key];
      return [read, ['TTL', key]];
    });
    try {
      return await node.pipeline(commands);
    } catch (error) {
      if (!(error instanceof ErrorReply)) throw error;
    }
    const replies = await Promise.allSettled(commands.map((args) => node.send(args)));
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
