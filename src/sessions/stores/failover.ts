/**
 * Redis with a memory fallback at run time. Every session read or written through Redis is
 * copied into a bounded memory store; when Redis stops answering, requests go on against that
 * copy within one command timeout. A background probe reconnects with backoff and, before
 * switching back, deletes what was deleted meanwhile and writes back every session changed
 * meanwhile (the higher version wins; on a tie, Redis's). A write Redis refuses for lack of
 * memory also continues in memory and is written back once Redis has room.
 *
 * Events: 'unavailable' ({reason}), 'recovered' (ReconcileReport), 'conflict' ({sessionId}) when
 * Redis held a newer version, 'rejected' ({sessionId}) when Redis refused a write.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { storedVersion } from '../codec.js';
import { StoreFullError, StoreUnavailableError } from '../errors.js';
import type {
  ConditionalWrite,
  ListOptions,
  ListPage,
  SessionStore,
  StoreBackend,
  StoreStatus,
  VersionRange,
} from '../types.js';
import type { MemorySessionStore } from './memory.js';
import type { RedisSessionStore } from './redis.js';

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
}

export interface ReconcileReport {
  writtenBack: number;
  conflicts: number;
  deleted: number;
}

export class FailoverStore extends EventEmitter implements SessionStore {
  readonly #local: MemorySessionStore;
  readonly #connect: () => Promise<RedisSessionStore>;
  readonly #ttl: number;
  readonly #logger: Logger;
  readonly #probe: { firstMs: number; maxMs: number };
  #redis: RedisSessionStore | undefined;
  #mode: StoreBackend;
  /** Counts switches to memory, so a repair can tell that Redis failed again meanwhile. */
  #outages = 0;
  /** Sessions whose memory copy is newer than Redis's. */
  readonly #dirty = new Set<string>();
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
    this.#delay = this.#probe.firstMs;
    this.#mode = this.#redis ? 'redis' : 'memory';
    if (!this.#redis) this.#schedule();
  }

  /** The backend serving requests now. */
  get name(): StoreBackend {
    return this.#mode;
  }

  get connected(): boolean {
    return this.#mode === 'redis' && this.#redis?.connected === true;
  }

  async get(id: string): Promise<string | null> {
    if (this.#dirty.has(id)) return this.#local.get(id);
    return this.#attempt(
      async (redis) => {
        const value = await redis.get(id);
        if (this.#copyable(id)) {
          if (value === null) await this.#local.delete(id);
          else await this.#local.set(id, value, this.#ttl);
        }
        return value;
      },
      () => this.#local.get(id),
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

  async delete(id: string): Promise<boolean> {
    return this.#attempt(
      async (redis) => {
        const deleted = await redis.delete(id);
        this.#dirty.delete(id);
        await this.#local.delete(id);
        return deleted;
      },
      async () => {
        // Whether Redis holds it cannot be known now; it will be deleted there on recovery.
        this.#dirty.delete(id);
        this.#deleted.add(id);
        await this.#local.delete(id);
        this.#schedule();
        return true;
      },
    );
  }

  async exists(id: string): Promise<boolean> {
    if (this.#dirty.has(id)) return this.#local.exists(id);
    return this.#attempt(
      (redis) => redis.exists(id),
      () => this.#local.exists(id),
    );
  }

  async ttl(id: string): Promise<number | null> {
    if (this.#dirty.has(id)) return this.#local.ttl(id);
    return this.#attempt(
      (redis) => redis.ttl(id),
      () => this.#local.ttl(id),
    );
  }

  /** A slow listing answers from the memory copy, without switching every request to it. */
  async list(options?: ListOptions): Promise<ListPage> {
    const redis = this.#redis;
    if (this.#mode === 'redis' && redis) {
      try {
        return await redis.list(options);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
      }
    }
    return this.#local.list(options);
  }

  async quarantine(id: string, unreadable?: string): Promise<void> {
    this.#dirty.delete(id);
    await this.#attempt(
      async (redis) => {
        await this.#local.delete(id);
        await redis.quarantine(id, unreadable);
      },
      () => this.#local.quarantine(id, unreadable),
    );
  }

  async status(): Promise<StoreStatus> {
    const status = await this.#attempt(
      (redis) => redis.status(),
      () => this.#local.status(),
    );
    return { ...status, connected: this.connected };
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
      const report = await this.#reconcile(this.#redis);
      // Redis failed again while this ran: stay on memory, probe again.
      if (this.#outages !== outages) return;
      this.#mode = 'redis';
      this.#delay = this.#probe.firstMs;
      if (wasAway) {
        this.#logger.info(
          {
            event_type: 'redis_recovered',
            written_back: report.writtenBack,
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

  /** Deletes, then writes back, what changed while Redis was away; a newer version in Redis wins. */
  async #reconcile(redis: RedisSessionStore): Promise<ReconcileReport> {
    const report: ReconcileReport = { writtenBack: 0, conflicts: 0, deleted: 0 };
    // Requests keep changing the memory copy meanwhile: loop until nothing is left.
    while (this.#deleted.size > 0 || this.#dirty.size > 0) {
      for (const id of [...this.#deleted]) {
        await redis.delete(id);
        this.#deleted.delete(id);
        report.deleted++;
      }
      for (const id of [...this.#dirty]) {
        const value = await this.#local.get(id);
        if (value === null) {
          this.#dirty.delete(id); // expired (or evicted) meanwhile
          continue;
        }
        const version = storedVersion(value);
        const ttl = (await this.#local.ttl(id)) || this.#ttl;
        // Over an older or unreadable value only; an equal version is a fork Redis keeps.
        const write = await redis.setIf(id, value, ttl, { min: -1, max: version - 1 });
        // Changed again while being written back: it stays dirty for the next round.
        const unchanged = (await this.#local.get(id)) === value;
        if (unchanged) this.#dirty.delete(id);
        if (write.outcome !== 'conflict') {
          report.writtenBack++;
          continue;
        }
        report.conflicts++;
        if (unchanged) await this.#local.delete(id);
        this.#logger.warn(
          {
            event_type: 'session_conflict',
            session_id: id,
            local_version: version,
            redis_version: write.storedVersion,
          },
          'Conflito na reconciliação: a versão do Redis prevaleceu',
        );
        this.emit('conflict', { sessionId: id });
      }
    }
    return report;
  }
}
