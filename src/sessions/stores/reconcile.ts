/**
 * The failover store's write-back when Redis answers again: the deletions made meanwhile first,
 * then every session changed in memory, each as planWriteBack() decides (written, merged with
 * what Redis holds, or given up to a newer session there), reading Redis again whenever another
 * instance wrote the session in between. Requests may go on changing the memory copy while it
 * runs: it loops until nothing is left.
 */
import type { Logger } from 'pino';
import { storedStamp } from '../codec.js';
import { SessionCorruptError } from '../errors.js';
import type { MemorySessionStore } from './memory.js';
import type { RedisSessionStore } from './redis.js';
import { type PlannedWriteBack, planWriteBack, type SessionMerge } from './write-back.js';

export interface ReconcileReport {
  /** Sessions whose memory copy is now in Redis as it was. */
  writtenBack: number;
  /** Sessions whose two branches (memory's and Redis's) were merged. */
  merged: number;
  /** Sessions of which one branch was dropped: Redis's newer version or newer creation kept, or
   * an older session replaced by a newer one under the same id. */
  conflicts: number;
  deleted: number;
}

/** What the failover has to write back; both sets are emptied as the work is done. */
export interface Pending {
  /** Sessions whose memory copy is newer than Redis's. */
  readonly dirty: Set<string>;
  /** Sessions deleted while Redis was away. */
  readonly deleted: Set<string>;
}

export interface ReconcileOptions {
  readonly local: MemorySessionStore;
  /** SESSION_TTL: what a merged session gets, as every save. */
  readonly ttlSeconds: number;
  readonly merge: SessionMerge | undefined;
  readonly logger: Logger;
  /** Told of each merge ('merged', {sessionId, ...MergeCounts}) and each dropped branch
   * ('conflict', {sessionId}). */
  emit(event: 'merged' | 'conflict', payload: object): void;
}

/** A write-back that keeps meeting a newer value in Redis is left for the next round. */
const MAX_WRITE_BACK_ROUNDS = 10;

export async function reconcile(
  redis: RedisSessionStore,
  pending: Pending,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { writtenBack: 0, merged: 0, conflicts: 0, deleted: 0 };
  // Still contended after a few rounds: left dirty for the next repair.
  const postponed = new Set<string>();
  for (;;) {
    for (const id of [...pending.deleted]) {
      await redis.delete(id);
      pending.deleted.delete(id);
      report.deleted++;
    }
    const ids = [...pending.dirty].filter((id) => !postponed.has(id));
    if (ids.length === 0) break;
    for (const id of ids) {
      if (!(await writeBack(redis, id, pending, options, report))) postponed.add(id);
    }
  }
  return report;
}

/** Writes one session back; false when it is still contended after MAX_WRITE_BACK_ROUNDS (it
 * stays dirty). */
async function writeBack(
  redis: RedisSessionStore,
  id: string,
  pending: Pending,
  options: ReconcileOptions,
  report: ReconcileReport,
): Promise<boolean> {
  const { local: copies, logger } = options;
  for (let round = 1; round <= MAX_WRITE_BACK_ROUNDS; round++) {
    // As it is, whatever its size: what memory will not hand out, Redis will not either.
    const local = copies.peek(id);
    if (local === undefined) {
      pending.dirty.delete(id); // expired (or evicted) meanwhile
      return true;
    }
    let stored: string | null;
    try {
      stored = await redis.get(id);
    } catch (error) {
      if (!(error instanceof SessionCorruptError)) throw error;
      await setAside(redis, id, undefined, error.message, logger);
      continue;
    }
    const planned = planWriteBack(id, local.value, stored, options.merge);
    const { plan } = planned;
    if (plan.action === 'set_aside') {
      await setAside(redis, id, stored ?? undefined, 'no version can be read from it', logger);
      continue;
    }
    // A merge is a save: it gets a whole SESSION_TTL, as every save does.
    const ttl =
      plan.action === 'write' && plan.kind !== 'merged'
        ? local.ttl || options.ttlSeconds
        : options.ttlSeconds;
    if (plan.action === 'write') {
      const write = await redis.setIf(id, plan.value, ttl, plan.range);
      if (write.outcome === 'conflict') continue; // written meanwhile: read it again
    }
    // Unless a request changed it meanwhile (then it stays dirty for the next round), the copy
    // becomes what Redis now holds.
    if (copies.peek(id)?.value === local.value) {
      pending.dirty.delete(id);
      const now = plan.action === 'write' ? plan.value : stored;
      if (now !== null && now !== local.value) await copies.set(id, now, ttl);
    }
    tell(id, planned, local.value, stored, options, report);
    return true;
  }
  return false;
}

/** Counts, logs and announces what a write-back did. */
function tell(
  id: string,
  { plan, mergeFailure }: PlannedWriteBack,
  local: string,
  stored: string | null,
  { logger, emit }: ReconcileOptions,
  report: ReconcileReport,
): void {
  if (mergeFailure !== undefined) {
    logger.warn(
      { event_type: 'session_merge_failed', session_id: id, reason: mergeFailure },
      'Não foi possível mesclar as duas versões da sessão: vale a de versão maior',
    );
  }
  if (plan.action === 'write' && plan.kind === 'merged' && plan.counts) {
    report.merged++;
    const { counts } = plan;
    logger.info(
      {
        event_type: 'session_merged',
        session_id: id,
        local_only: counts.localOnly,
        redis_only: counts.redisOnly,
        duplicates: counts.duplicates,
        before_reset: counts.beforeReset,
        dropped: counts.dropped,
        version: counts.version,
      },
      'Sessão alterada em duas instâncias durante a falha: versões mescladas',
    );
    emit('merged', { sessionId: id, ...counts });
    return;
  }
  if (plan.action === 'none' || (plan.action === 'write' && plan.kind === 'local')) {
    report.writtenBack++;
    return;
  }
  if (plan.action === 'write') report.writtenBack++;
  report.conflicts++;
  const kept = plan.action === 'write' ? 'local' : 'redis';
  logger.warn(
    {
      event_type: 'session_conflict',
      session_id: id,
      kept,
      reason: plan.action === 'keep_redis' ? plan.reason : 'newer_creation',
      local_version: storedStamp(local).version,
      redis_version: storedStamp(stored).version,
    },
    kept === 'redis'
      ? 'Conflito na reconciliação: a versão do Redis prevaleceu'
      : 'Conflito na reconciliação: uma sessão criada depois substituiu a do Redis',
  );
  emit('conflict', { sessionId: id });
}

/** Quarantines the unreadable value Redis holds for `id` (`raw`, or without it one get()
 * refused to read), as a load would, and says so. */
async function setAside(
  redis: RedisSessionStore,
  id: string,
  raw: string | undefined,
  reason: string,
  logger: Logger,
): Promise<void> {
  const moved = await redis.quarantine(id, raw);
  logger.error(
    {
      session_id: id,
      event_type: 'session_corrupt',
      reason,
      quarantine: moved.outcome,
      quarantined_as: moved.outcome === 'moved' ? moved.movedTo : undefined,
    },
    'Valor ilegível no Redis na reconciliação: guardado para inspeção antes de gravar a sessão',
  );
}
