/**
 * Redis store on @redis/client: one string key per session (`${keyPrefix}${id}`) written with
 * its TTL in the same command, listed with SCAN plus one pipelined round trip per page (never
 * KEYS). On a single server, a Cluster (every master scanned in turn) or a master found through
 * Sentinel; every command touches one key (or a key and its quarantine key, in the same slot),
 * so each runs in one slot. It fails fast: no offline queue, and a deadline on connecting, on
 * every command and on closing, so a server that is down or frozen never hangs a caller. No
 * value larger than the size limit is ever read whole, here or in a script.
 */
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { ErrorReply } from '@redis/client';
import type { Logger } from 'pino';
import { silentLogger } from '../../logger.js';
import { SessionCorruptError, StoreFullError, StoreUnavailableError } from '../errors.js';
import { describeCursor, readCursor, redisCursor } from '../list-cursor.js';
import { isValidSessionId } from '../session-id.js';
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
import {
  createRedisConnection,
  type KeyspaceNode,
  type RedisConnection,
  type RedisConnectionOptions,
} from './redis-connection.js';
import { CommandDeadlines } from './redis-deadlines.js';
import { explain, reasonOf, withDeadline } from './redis-errors.js';
import { quarantineKeepsSlot, quarantineKey } from './redis-keys.js';
import { checkPermissions, type PermissionCheck, storeCommands } from './redis-permissions.js';
import { RedisRefusals, type Refusal } from './redis-refusals.js';

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
  /** SESSION_MAX_BYTES: a stored value larger than this is never read whole; get() refuses it
   * (SessionCorruptError) and quarantine() moves it with RENAME. @default 262144 */
  maxValueBytes?: number;
  /** status() reads INFO (and checks the ACL user's permissions) at most this often; what Redis
   * refused meanwhile is always current. @default 5000 */
  statusMaxAgeMs?: number;
  logger?: Logger;
}

/** How often status() counts the quarantined values (a SCAN of the whole keyspace). */
const QUARANTINE_COUNT_MAX_AGE_MS = 60000;

/** Commands waiting in the client at once; past it, new ones fail instead of piling up. */
const MAX_QUEUED_COMMANDS = 10000;
/** Commands in one pipeline of heads(): well under MAX_QUEUED_COMMANDS. */
const PIPELINE_COMMANDS = 2500;

/** A page of heads(). */
export interface HeadsPage {
  /** Keys of the page under the prefix, sessions or not. */
  readonly scanned: number;
  readonly entries: readonly { readonly id: string; readonly value: string }[];
}

const isWrongType = (reply: unknown) =>
  reply instanceof ErrorReply && reply.message.startsWith('WRONGTYPE');

/** The ACL user a URL logs in as, and its database. */
function identityOf(url: string): { user: string; database: number } {
  const parsed = new URL(url);
  return {
    user: parsed.username === '' ? 'default' : decodeURIComponent(parsed.username),
    database: Number(parsed.pathname.slice(1) || 0),
  };
}

/** INFO fields status() reports. */
type InfoFields = Omit<StoreStatus, 'backend' | 'connected' | 'degradedReason' | 'degradedDetail'>;

/** Escapes SCAN glob characters so a prefix is matched literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisSessionStore implements SessionStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly connection: RedisConnection;
  /** SESSION_MAX_BYTES: the largest value read. */
  readonly maxValueBytes: number;
  readonly #commandTimeoutMs: number;
  readonly #deadlines: CommandDeadlines;
  readonly #connectTimeoutMs: number;
  readonly #statusMaxAgeMs: number;
  readonly #identity: { user: string; database: number };
  readonly #logger: Logger;
  readonly #refusals = new RedisRefusals();
  /** Whether ACL DRYRUN answered at start-up (then status() asks again). */
  #canCheckPermissions = false;
  #info: { at: number; fields: Promise<InfoFields> } | undefined;
  #quarantined: { at: number; count: Promise<number> } | undefined;

  private constructor(connection: RedisConnection, options: RedisStoreOptions, logger: Logger) {
    this.connection = connection;
    this.keyPrefix = options.keyPrefix ?? 'cql:session:';
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.#deadlines = new CommandDeadlines(this.#commandTimeoutMs);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#statusMaxAgeMs = options.statusMaxAgeMs ?? 5000;
    this.#identity = identityOf(options.url);
    this.#logger = logger;
  }

  /** Connects, or rejects with StoreUnavailableError (unreachable, frozen, refused password,
   * refused certificate); then asks whether its ACL user may run every command it needs. */
  static async connect(options: RedisStoreOptions): Promise<RedisSessionStore> {
    const logger = options.logger ?? silentLogger();
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    const keyPrefix = options.keyPrefix ?? 'cql:session:';
    if (options.cluster && !quarantineKeepsSlot(keyPrefix)) {
      throw new TypeError(
        `REDIS_KEY_PREFIX ${JSON.stringify(keyPrefix)} has braces that make no hash tag: on a Redis Cluster its keys could not be quarantined (use no braces, or a whole {tag})`,
      );
    }
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
    const store = new RedisSessionStore(connection, options, logger);
    const check = await store.#checkPermissions();
    store.#canCheckPermissions = check.checked;
    if (!check.checked) {
      logger.info(
        {
          event_type: 'redis_permissions_unchecked',
          redis_user: store.#identity.user,
          reason: check.reason,
        },
        'Permissões do usuário do Redis não verificadas na partida (ACL DRYRUN indisponível)',
      );
    } else if (check.missing.length > 0) {
      logger.warn(
        {
          event_type: 'redis_permissions_missing',
          redis_user: store.#identity.user,
          missing: check.missing,
        },
        `O usuário do Redis não pode executar comandos de que as sessões precisam: ${check.missing.join(', ')}`,
      );
    }
    return store;
  }

  get connected(): boolean {
    return this.connection.isReady;
  }

  /** What Redis refuses this store right now (memory, permissions); undefined when nothing. */
  get refusal(): Refusal | undefined {
    return this.#refusals.current;
  }

  key(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  /**
   * Reads at most maxValueBytes + 1 bytes (GETRANGE), so a huge value never crosses the wire;
   * the common case is that one command. A value over the limit, or with bytes that are not
   * UTF-8, is read again as bytes to tell which, and refused.
   */
  async get(id: string): Promise<string | null> {
    const key = this.key(id);
    const max = this.maxValueBytes;
    const text = await this.#read(id, () => this.connection.keys.getRange(key, 0, max));
    if (text === '') return this.#emptyOrMissing(key);
    // A UTF-16 unit is at most 3 UTF-8 bytes; bytes that are not UTF-8 decode as U+FFFD.
    if (!this.#tooLarge(text) && !text.includes('\uFFFD')) return text;
    const bytes = await this.#read(id, () => this.connection.bytes.getRange(key, 0, max));
    if (bytes.length > max) {
      throw new SessionCorruptError(
        id,
        `the value is larger than ${max} bytes (SESSION_MAX_BYTES), so it was not read`,
      );
    }
    if (!isUtf8(bytes)) throw new SessionCorruptError(id, 'the value is not UTF-8 text');
    return bytes.length === 0 ? this.#emptyOrMissing(key) : bytes.toString('utf8');
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#run(
      'set',
      () =>
        this.connection.keys.set(this.key(id), value, {
          expiration: { type: 'EX', value: ttlSeconds },
        }),
      () => true,
    );
  }

  async setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    // The value read is still there: one comparison decides (the common save). Anything else
    // (a newer version, this very value, nothing) is decided by the script below, with reasons.
    if (range.stamp !== undefined && range.min === range.max) {
      const stamp = range.stamp;
      const written = await this.#run(
        'set',
        () => this.connection.keys.setIfStamp(this.key(id), value, stamp, ttlSeconds),
        (reply) => reply === 1,
      );
      if (written === 1) return { outcome: 'written', storedVersion: range.min };
    }
    const [outcome, storedVersion = -1] = await this.#run(
      'set',
      () =>
        this.connection.keys.setIf(
          this.key(id),
          value,
          ttlSeconds,
          range.min,
          range.max,
          range.createdAt ?? '',
          this.maxValueBytes,
        ),
      ([written]) => written === 1,
    );
    return {
      outcome: outcome === 1 ? 'written' : outcome === 2 ? 'identical' : 'conflict',
      storedVersion,
    };
  }

  /** Renames the unreadable value to its quarantine key (same slot; O(1) whatever its size), in
   * one script that first checks the key still holds what was judged unreadable, so a valid
   * session written meanwhile is never moved. */
  async quarantine(id: string, unreadable?: string): Promise<QuarantineResult> {
    const target = quarantineKey(this.keyPrefix, id);
    const read =
      unreadable === undefined ? { refusedOver: this.maxValueBytes } : { value: unreadable };
    const outcome = await this.#run('quarantine', () =>
      this.connection.keys.moveAside(this.key(id), target, read, QUARANTINE_TTL_SECONDS * 1000),
    );
    return outcome === 'moved' ? { outcome, movedTo: target } : { outcome };
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

  /**
   * One page from one node at a time. The cursor (`redis:<node address>:<SCAN cursor>`) names the
   * node, not a position, so it is never replayed on another one: a cursor this store cannot
   * continue (another store's, or a node's that is no longer a master) starts the listing over.
   */
  list(options: ListOptions = {}): Promise<ListPage> {
    return this.#run('list', async () => {
      const nodes = await this.connection.nodes();
      if (nodes.length === 0) throw new Error('no master is reachable');
      const read = options.cursor === undefined ? undefined : readCursor(options.cursor);
      const on = read?.store === 'redis' ? nodes.findIndex((n) => n.address === read.node) : -1;
      if (options.cursor !== undefined && on === -1) {
        this.#logger.info(
          { event_type: 'session_listing_restarted', cursor: describeCursor(options.cursor) },
          'Cursor de listagem de outro armazenamento ou nó: a listagem recomeça do início',
        );
      }
      const index = Math.max(on, 0);
      const node = nodes[index] as KeyspaceNode;
      const page = await node.scan(
        on !== -1 && read?.store === 'redis' ? read.scan : '0',
        `${globEscape(this.keyPrefix)}*`,
        Math.max(options.limit ?? 100, 100),
      );
      const entries = await this.#entries(node, page.keys, options.headBytes);
      const following = nodes[index + 1];
      const next =
        page.cursor !== '0'
          ? redisCursor(node.address, page.cursor)
          : following
            ? redisCursor(following.address, '0')
            : undefined;
      return { entries, cursor: next };
    });
  }

  /** INFO of every master, added up (memory, evictions, hits) for a Cluster, read at most every
   * statusMaxAgeMs; and what Redis refuses the store, always current. */
  async status(): Promise<StoreStatus> {
    const now = Date.now();
    if (this.#info === undefined || now - this.#info.at > this.#statusMaxAgeMs) {
      const fields = this.#readInfo();
      this.#info = { at: now, fields };
      // A failed read is not kept: the next call tries again.
      fields.catch(() => {
        if (this.#info?.fields === fields) this.#info = undefined;
      });
    }
    const fields = await this.#info.fields;
    return {
      backend: 'redis',
      connected: this.connected,
      topology: this.connection.topology,
      ...fields,
      quarantined: await this.#quarantinedCount(),
      ...this.#refusals.current,
    };
  }

  /**
   * Values moved aside (`${prefix}corrupt:*`), counted with SCAN at most once a minute (a full
   * scan of the keyspace: cheap on a small one, never per request); undefined when the last
   * count failed.
   */
  async #quarantinedCount(): Promise<number | undefined> {
    const now = Date.now();
    if (
      this.#quarantined === undefined ||
      now - this.#quarantined.at > QUARANTINE_COUNT_MAX_AGE_MS
    ) {
      const count = (async () => {
        let total = 0;
        for (const node of await this.connection.nodes()) {
          let cursor = '0';
          do {
            const page = await node.scan(cursor, `${globEscape(this.keyPrefix)}corrupt:*`, 1000);
            cursor = page.cursor;
            total += page.keys.length;
          } while (cursor !== '0');
        }
        return total;
      })();
      this.#quarantined = { at: now, count };
      count.catch(() => {
        if (this.#quarantined?.count === count) this.#quarantined = undefined;
      });
    }
    return this.#quarantined.count.catch(() => undefined);
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

  /**
   * The first `headBytes` bytes of every session, a page at a time: SCAN with a large COUNT on
   * each master in turn, then one pipelined GETRANGE per page (no TTL, never a whole value): what
   * counting sessions by state needs (`cql-agent sessions stats`). The next page is read while
   * the caller works on this one. `scanned` counts every key of the page under the prefix. Keys
   * gone since the SCAN and keys of another Redis type are left out; SCAN may return a key twice.
   */
  async *heads(options: {
    headBytes: number;
    /** SCAN's COUNT. @default 2000 */
    count?: number;
  }): AsyncGenerator<HeadsPage> {
    const read = (node: KeyspaceNode, cursor: string) =>
      this.#headsPage(node, cursor, options.headBytes, options.count ?? 2000);
    for (const node of await this.#run('list', () => this.connection.nodes())) {
      let next: Promise<HeadsPage & { cursor: string }> | undefined = read(node, '0');
      try {
        while (next !== undefined) {
          const page: HeadsPage & { cursor: string } = await next;
          next = page.cursor === '0' ? undefined : read(node, page.cursor);
          yield { scanned: page.scanned, entries: page.entries };
        }
      } finally {
        // Left early: the page read ahead is not wanted, nor its failure.
        next?.catch(() => {});
      }
    }
  }

  async #headsPage(
    node: KeyspaceNode,
    cursor: string,
    headBytes: number,
    count: number,
  ): Promise<HeadsPage & { cursor: string }> {
    const page = await this.#run('list', () =>
      node.scan(cursor, `${globEscape(this.keyPrefix)}*`, count),
    );
    const ids = page.keys
      .map((key) => key.slice(this.keyPrefix.length))
      .filter((id) => isValidSessionId(id));
    const last = String(headBytes - 1);
    const entries: { id: string; value: string }[] = [];
    // In slices, so that no pipeline outgrows the client's queue.
    for (let from = 0; from < ids.length; from += PIPELINE_COMMANDS) {
      const slice = ids.slice(from, from + PIPELINE_COMMANDS);
      const replies = await this.#run('list', () =>
        this.#pipelined(
          node,
          slice.map((id) => ['GETRANGE', this.key(id), '0', last]),
        ),
      );
      slice.forEach((id, i) => {
        const value = replies[i];
        if (typeof value === 'string' && value !== '') entries.push({ id, value });
      });
    }
    return { cursor: page.cursor, scanned: page.keys.length, entries };
  }

  /** Keys in the database on every master (sessions and anything else): an upper bound on the
   * sessions, known without a SCAN; undefined when Redis refuses DBSIZE. */
  async keyCount(): Promise<number | undefined> {
    try {
      const sizes = await this.#run('status', async () =>
        Promise.all((await this.connection.nodes()).map((node) => node.send(['DBSIZE']))),
      );
      return sizes.reduce<number>((total, size) => total + Number(size), 0);
    } catch (error) {
      if (error instanceof StoreUnavailableError && error.cause instanceof ErrorReply) {
        return undefined;
      }
      throw error;
    }
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
      } else if (headBytes === undefined && typeof value === 'string' && this.#tooLarge(value)) {
        this.#logger.error(
          {
            session_id: id,
            event_type: 'session_corrupt',
            reason: 'larger than SESSION_MAX_BYTES',
          },
          'Sessão maior que o limite no Redis: fora da listagem',
        );
      } else if (typeof value === 'string' && value !== '' && ttl !== -2) {
        // (Expired or deleted between SCAN and the reads: GETRANGE answers "".)
        entries.push({ id, value, ttl: ttl === -1 ? null : ttl });
      }
    });
    return entries;
  }

  /** Value (its first headBytes, and never more than maxValueBytes + 1) and TTL of each id, in
   * one pipelined round trip (see #pipelined for a key that fails). */
  async #readAll(
    node: KeyspaceNode,
    ids: string[],
    headBytes: number | undefined,
  ): Promise<unknown[]> {
    const commands = ids.flatMap((id) => {
      const key = this.key(id);
      const last = headBytes ? headBytes - 1 : this.maxValueBytes;
      return [
        ['GETRANGE', key, '0', String(last)],
        ['TTL', key],
      ];
    });
    return this.#pipelined(node, commands);
  }

  /** The replies of `commands`, sent in one round trip; should one fail (a key of another Redis
   * type), they are sent again one by one, and its error comes back in place of its reply. */
  async #pipelined(node: KeyspaceNode, commands: string[][]): Promise<unknown[]> {
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

  /** Whether text read with GETRANGE up to maxValueBytes + 1 stands for a larger value (or for
   * bytes that are not UTF-8, which decode larger). */
  #tooLarge(text: string): boolean {
    return text.length * 3 > this.maxValueBytes && Buffer.byteLength(text) > this.maxValueBytes;
  }

  async #readInfo(): Promise<InfoFields> {
    const infos = await this.#run('status', async () =>
      Promise.all((await this.connection.nodes()).map((node) => node.info())),
    );
    // The ACL may have been fixed (or broken) since start-up.
    if (this.#canCheckPermissions) await this.#checkPermissions();
    const field = (info: string, name: string) =>
      new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const sum = (name: string) =>
      infos.reduce((total, info) => total + Number(field(info, name) ?? 0), 0);
    const first = infos[0] ?? '';
    return {
      evictedKeys: sum('evicted_keys'),
      maxmemoryPolicy: field(first, 'maxmemory_policy'),
      maxmemoryBytes: sum('maxmemory'),
      usedMemoryBytes: sum('used_memory'),
      keyspaceHits: sum('keyspace_hits'),
      keyspaceMisses: sum('keyspace_misses'),
    };
  }

  /** ACL DRYRUN of every command the store sends, on every master; never throws. */
  async #checkPermissions(): Promise<PermissionCheck> {
    const commands = storeCommands(
      this.key('acl-check'),
      quarantineKey(this.keyPrefix, 'acl-check'),
    );
    if (this.#identity.database > 0) commands.push(['SELECT', String(this.#identity.database)]);
    let check: PermissionCheck;
    try {
      check = await withDeadline(
        (async () =>
          checkPermissions(await this.connection.nodes(), this.#identity.user, commands))(),
        this.#commandTimeoutMs,
      );
    } catch (error) {
      check = { checked: false, reason: reasonOf(error) };
    }
    this.#refusals.noteCheck(check);
    return check;
  }

  /** GETRANGE answers "" for a missing key and for an empty value alike: EXISTS tells which. */
  async #emptyOrMissing(key: string): Promise<string | null> {
    return (await this.#run('get', () => this.connection.keys.exists(key))) > 0 ? '' : null;
  }

  /** A read of the session's value; a key of another Redis type is a corrupt session. */
  async #read<T>(id: string, command: () => Promise<T>): Promise<T> {
    try {
      return await this.#run('get', command);
    } catch (error) {
      if (isWrongType((error as Error).cause)) {
        throw new SessionCorruptError(id, 'the key holds a Redis value that is not a string');
      }
      throw error;
    }
  }

  /**
   * Runs one operation under the command deadline; every failure becomes StoreUnavailableError,
   * or StoreFullError when Redis refused a write for lack of memory. `wrote` tells, from the
   * result, whether Redis took a write (which shows it has room again).
   */
  async #run<T>(
    operation: string,
    command: () => Promise<T>,
    wrote?: (result: T) => boolean,
  ): Promise<T> {
    let result: T;
    try {
      result = await this.#deadlines.run(command());
    } catch (error) {
      const reason = reasonOf(error);
      this.#logger.debug(
        { event_type: 'redis_command_failed', operation, reason },
        'Comando Redis falhou',
      );
      const refused =
        error instanceof ErrorReply ? this.#refusals.noteError(operation, reason) : undefined;
      if (refused?.kind === 'oom') throw new StoreFullError(operation, reason, { cause: error });
      if (refused?.kind === 'noperm' && refused.first) {
        this.#logger.warn(
          {
            event_type: 'redis_permission_denied',
            operation,
            redis_user: this.#identity.user,
            reason,
          },
          'O Redis recusou um comando ao usuário configurado (ACL)',
        );
      }
      throw new StoreUnavailableError('redis', operation, reason, { cause: error });
    }
    this.#refusals.noteSuccess(operation, wrote?.(result) ?? false);
    return result;
  }
}
