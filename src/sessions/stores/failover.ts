/**
 * Redis with a memory fallback at run time. Every session read or written through Redis is
 * copied into a bounded memory store; when Redis stops answering, requests go on against that
 * copy within one command timeout, for the sessions it holds (any other is unavailable: its
 * token cannot be checked). A background probe reconnects with backoff and, before switching
 * back, deletes what was deleted meanwhile and writes back every session changed meanwhile,
 * merging it with what Redis holds when both changed (reconcile.ts, write-back.ts; an unreadable
 * value there is quarantined, not written over). A write Redis refuses for lack of memory also
 * continues in memory and is written back once Redis has room. Listing cursors name the backend
 * that issued them: a listing that spans a switch starts over on the other one.
 *
 * Events: 'unavailable' ({reason}), 'recovered' (ReconcileReport), 'conflict' ({sessionId}) when
 * a branch of a session was dropped at write-back, 'merged' ({sessionId, ...MergeCounts}) when
 * two branches were merged, 'rejected' ({sessionId}) when Redis refused a write.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { StoreFullError, StoreUnavailableError } from '../errors.js';
import { describeCursor } from '../list-cursor.js';
import type {
  ConditionalWrite,
  ListOptions,
  ListPage,
  QuarantineResult,
  SessionStore,
  StoreBackend,
  StoreStatus,
  VersionRange,
} from '../types.js';
import type { MemorySessionStore } from './memory.js';
import { reconcile } from './reconcile.js';
import type { RedisSessionStore } from './redis.js';
import type { SessionMerge } from './write-back.js';

export interface FailoverStoreOptions {
  /** A connected Redis store, or undefined when Redis could not be reached at start-up. */
  redis: RedisSessionStore | undefined;
  /** Opens a new Redis store (used when there was none at start-up). */
  connect: () => Promise<RedisSessionStore>;
  /** The bounded copy, and where sessions live while Redis is away. */
  local: MemorySessionStore;
  /** TTL of copies made from reads (what every save sets: SESSION_TTL). */
  ttlSeconds: number;
  logger: Logger;
  /** First and longest pause between probes. @default {firstMs: 250, maxMs: 5000} */
  probe?: { firstMs: number; maxMs: number };
  /** Joins a session changed both in memory and in Redis while Redis was away (see
   * src/sessions/merge.ts). @default none: the higher version wins, on a tie Redis's */
  merge?: SessionMerge;
}

export type { ReconcileReport } from './reconcile.js';

export class FailoverStore extends EventEmitter implements SessionStore {
  readonly #local: MemorySessionStore;
  readonly #connect: () => Promise<RedisSessionStore>;
  readonly #ttl: number;
  readonly #logger: Logger;
  readonly #probe: { firstMs: number; maxMs: number };
  readonly #merge: SessionMerge | undefined;
  #redis: RedisSessionStore | undefined;
  #mode: StoreBackend;
  /** Counts switches to memory, so a repair can tell that Redis failed again meanwhile. */
  #outages = 0;
  /** Sessions whose memory copy is newer than Redis's. */
  readonly #dirty = new Set<string>();
  /** When this instance last went to its memory copy (or started without Redis); undefined while
   * on Redis. */
  #onMemorySince: Date | undefined;
  /** Sessions deleted while Redis was away (kept when created again: the old one goes first). */
  readonly #deleted = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #full = false;
  #repairing = false;
  #closed = false;

  constructor(options: FailoverStoreOptions) {
    super();
    this.#redis = options.redis;
    this.#connect = options.connect;
    this.#local = options.local;
    this.#ttl = options.ttlSeconds;
    this.#logger = options.logger;
    this.#probe = options.probe ?? { firstMs: 250, maxMs: 5000 };
    this.#merge = options.merge;
    this.#delay = this.#probe.firstMs;
    this.#mode = this.#redis ? 'redis' : 'memory';
    if (!this.#redis) {
      this.#onMemorySince = new Date();
      this.#schedule();
    }
  }

  /** The backend serving requests now. */
  get name(): StoreBackend {
    return this.#mode;
  }

  get connected(): boolean {
    return this.#mode === 'redis' && this.#redis?.connected === true;
  }

  /** During an outage, a session this instance holds no copy of (and did not delete) is a
   * StoreUnavailableError, not null: null would let anyone create it again with a new token. */
  async get(id: string): Promise<string | null> {
    if (await this.#newerInMemory(id)) return this.#local.get(id);
    return this.#attempt(
      async (redis) => {
        const value = await redis.get(id);
        if (this.#copyable(id)) {
          if (value === null) await this.#local.delete(id);
          else await this.#local.set(id, value, this.#ttl);
        }
        return value;
      },
      async () => ((await this.#fromCopy(id, 'get')) ? this.#local.get(id) : null),
    );
  }

  async set(id: string, value: string, ttlSeconds: number): Promise<void> {
    await this.setIf(id, value, ttlSeconds, { min: -1, max: Number.MAX_SAFE_INTEGER });
  }

  async setIf(
    id: string,
    value: string,
    ttlSeconds: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    if (this.#dirty.has(id)) return this.#writeLocally(id, value, ttlSeconds, range);
    return this.#attempt(
      async (redis) => {
        let write: ConditionalWrite;
        try {
          write = await redis.setIf(id, value, ttlSeconds, range);
        } catch (error) {
          if (!(error instanceof StoreFullError)) throw error;
          this.#rejected(id, error);
          return this.#writeLocally(id, value, ttlSeconds, range);
        }
        if (this.#copyable(id)) {
          if (write.outcome === 'conflict') await this.#local.delete(id);
          else await this.#local.set(id, value, ttlSeconds);
        }
        return write;
      },
      () => this.#writeLocally(id, value, ttlSeconds, range),
    );
  }

  /** During an outage: deleted in memory now, and in Redis on recovery, before anything
   * written back; a session this instance holds no copy of is a StoreUnavailableError. */
  async delete(id: string): Promise<boolean> {
    return this.#attempt(
      async (redis) => {
        const deleted = await redis.delete(id);
        this.#dirty.delete(id);
        await this.#local.delete(id);
        return deleted;
      },
      async () => {
        if (!(await this.#fromCopy(id, 'delete'))) return false;
        this.#dirty.delete(id);
        this.#deleted.add(id);
        await this.#local.delete(id);
        this.#schedule();
        return true;
      },
    );
  }

  async exists(id: string): Promise<boolean> {
    if (await this.#newerInMemory(id)) return true;
    return this.#attempt(
      (redis) => redis.exists(id),
      async () => (await this.#fromCopy(id, 'exists')) && this.#local.exists(id),
    );
  }

  async ttl(id: string): Promise<number | null> {
    if (await this.#newerInMemory(id)) return this.#local.ttl(id);
    return this.#attempt(
      (redis) => redis.ttl(id),
      async () => ((await this.#fromCopy(id, 'ttl')) ? this.#local.ttl(id) : 0),
    );
  }

  /**
   * Lists the backend serving now, under its own cursors (`redis:...` or `memory:...`): a cursor
   * of the other one, from before a switch, starts the listing over, so a listing that spans an
   * outage or a recovery names every session at least once. A Redis listing that fails on a
   * lost connection is an outage like any other command's; one that is only slow (the
   * connection still up) fails, rather than answering from the memory copy, which holds only
   * the sessions this instance has seen.
   */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const redis = this.#redis;
    if (this.#mode === 'redis' && redis) {
      try {
        return await redis.list(this.#ownCursor(options, 'redis'));
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || redis.connected) throw error;
        this.#unavailable(error);
      }
    }
    return this.#local.list(this.#ownCursor(options, 'memory'));
  }

  async quarantine(id: string, unreadable?: string): Promise<QuarantineResult> {
    this.#dirty.delete(id);
    return this.#attempt(
      async (redis) => {
        await this.#local.delete(id);
        return redis.quarantine(id, unreadable);
      },
      () => this.#local.quarantine(id, unreadable),
    );
  }

  /** The serving backend's status; on memory, with what Redis refused (a command the ACL user
   * lacks sends the instance to memory: that is why it stays there). */
  async status(): Promise<StoreStatus> {
    const status = await this.#attempt(
      (redis) => redis.status(),
      () => this.#local.status(),
    );
    const refusal = this.#mode === 'memory' ? this.#redis?.refusal : undefined;
    return {
      ...status,
      ...refusal,
      connected: this.connected,
      onMemorySince: this.#onMemorySince,
      pendingWritebacks: this.#dirty.size + this.#deleted.size,
    };
  }

  /** Stops probing, makes a last attempt to write back what only memory holds, and closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#repairing && (this.#dirty.size > 0 || this.#deleted.size > 0)) await this.#repair();
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#dirty.size > 0 || this.#deleted.size > 0) {
      this.#logger.warn(
        {
          event_type: 'sessions_not_written_back',
          changed: this.#dirty.size,
          deleted: this.#deleted.size,
        },
        'Encerrando sem conseguir gravar no Redis as sessões alteradas durante a falha',
      );
    }
    await this.#redis?.close();
    await this.#local.close();
  }

  /** Runs on Redis while it answers; on the memory copy otherwise (switching at the first failure). */
  async #attempt<T>(
    onRedis: (redis: RedisSessionStore) => Promise<T>,
    onLocal: () => Promise<T>,
  ): Promise<T> {
    const redis = this.#redis;
    if (this.#mode === 'redis' && redis) {
      try {
        return await onRedis(redis);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.#unavailable(error);
      }
    }
    return onLocal();
  }

  /** A Redis answer may update the copy only if nothing newer went to memory meanwhile. */
  #copyable(id: string): boolean {
    return this.#mode === 'redis' && !this.#dirty.has(id);
  }

  /** Whether memory holds a newer value of the session than Redis (changed while Redis was away
   * or full, not yet written back). */
  async #newerInMemory(id: string): Promise<boolean> {
    return this.#dirty.has(id) && (await this.#local.exists(id));
  }

  /**
   * While Redis is away: true when the copy holds the session, false when this instance deleted
   * it meanwhile. Any other session may well exist in Redis, and who may act on it cannot be
   * checked: StoreUnavailableError.
   */
  async #fromCopy(id: string, operation: string): Promise<boolean> {
    if (await this.#local.exists(id)) return true;
    if (this.#deleted.has(id)) return false;
    throw new StoreUnavailableError(
      'redis',
      operation,
      'Redis is unavailable and this instance holds no copy of the session',
    );
  }

  /** The listing options for `backend`: a cursor of the other backend starts it over. */
  #ownCursor(options: ListOptions, backend: StoreBackend): ListOptions {
    const { cursor } = options;
    if (cursor === undefined || cursor.startsWith(`${backend}:`)) return options;
    this.#logger.info(
      { event_type: 'session_listing_restarted', cursor: describeCursor(cursor), backend },
      'A listagem começou antes da troca de armazenamento: recomeça do início',
    );
    return { ...options, cursor: undefined };
  }

  async #writeLocally(
    id: string,
    value: string,
    ttl: number,
    range: VersionRange,
  ): Promise<ConditionalWrite> {
    const write = await this.#local.setIf(id, value, ttl, range);
    if (write.outcome === 'written') {
      this.#dirty.add(id);
      this.#schedule();
    }
    return write;
  }

  #unavailable(error: StoreUnavailableError): void {
    if (this.#mode === 'memory') return;
    this.#mode = 'memory';
    this.#onMemorySince = new Date();
    this.#outages++;
    this.#logger.warn(
      { event_type: 'redis_unavailable', reason: error.message },
      'Redis não responde: as sessões seguem em memória até ele voltar',
    );
    this.emit('unavailable', { reason: error.message });
    this.#schedule();
  }

  #rejected(id: string, error: StoreFullError): void {
    this.emit('rejected', { sessionId: id });
    if (this.#full) return;
    this.#full = true;
    this.#logger.warn(
      { event_type: 'redis_write_rejected', session_id: id, reason: error.message },
      'Redis recusou a gravação (memória cheia): a sessão segue em memória até haver espaço',
    );
  }

  /** Probes (while Redis is away) or writes back (while copies are newer), with backoff. */
  #schedule(): void {
    if (this.#closed || this.#repairing || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#repair();
    }, this.#delay);
    this.#timer.unref();
  }

  async #repair(): Promise<void> {
    const wasAway = this.#mode === 'memory';
    const outages = this.#outages;
    this.#repairing = true;
    try {
      if (!this.#redis) {
        const redis = await this.#connect();
        if (this.#closed) {
          await redis.close();
          return;
        }
        this.#redis = redis;
      }
      await this.#redis.ping();
      const report = await reconcile(
        this.#redis,
        { dirty: this.#dirty, deleted: this.#deleted },
        {
          local: this.#local,
          ttlSeconds: this.#ttl,
          merge: this.#merge,
          logger: this.#logger,
          emit: (event, payload) => this.emit(event, payload),
        },
      );
      // Redis failed again while this ran: stay on memory, probe again.
      if (this.#outages !== outages) return;
      this.#mode = 'redis';
      this.#onMemorySince = undefined;
      this.#delay = this.#probe.firstMs;
      if (wasAway) {
        this.#logger.info(
          {
            event_type: 'redis_recovered',
            written_back: report.writtenBack,
            merged: report.merged,
            conflicts: report.conflicts,
            deleted: report.deleted,
          },
          'Redis voltou: sessões alteradas durante a falha foram gravadas nele',
        );
        this.emit('recovered', report);
      }
      if (this.#dirty.size === 0 && this.#full) {
        this.#full = false;
        this.#logger.info(
          { event_type: 'redis_writes_resumed' },
          'Redis voltou a aceitar gravações',
        );
      }
    } catch (error) {
      if (!(error instanceof StoreUnavailableError || error instanceof StoreFullError)) {
        this.#logger.error(
          { err: error, event_type: 'redis_repair_failed' },
          'Falha ao reconciliar com o Redis',
        );
      }
      this.#delay = Math.min(this.#delay * 2, this.#probe.maxMs);
    } finally {
      this.#repairing = false;
    }
    if (this.#mode === 'memory' || this.#dirty.size > 0 || this.#deleted.size > 0) this.#schedule();
  }
}
