/**
 * What a failover writes back to Redis for one session changed in memory while Redis was away,
 * given what Redis holds now. Values are strings here: a merge function from the layer that
 * knows the codec (src/sessions/merge.ts) joins two branches of one conversation; without one,
 * or when it cannot read them, the higher version wins and, on a tie, Redis's.
 */
import { storedStamp } from '../codec.js';
import { SessionError } from '../errors.js';
import type { VersionRange } from '../types.js';

/** What a merge made of the two branches of a session. */
export interface MergeCounts {
  /** Messages only the memory branch held. */
  readonly localOnly: number;
  /** Messages only Redis's branch held. */
  readonly redisOnly: number;
  /** Messages both held (the same role, time and text), kept once. */
  readonly duplicates: number;
  /** Messages of a branch from before the other's later reset (the conversation was started
   * over there): not merged. */
  readonly beforeReset: number;
  /** The oldest messages left out so the merge fits MAX_HISTORY_MESSAGES and SESSION_MAX_BYTES. */
  readonly dropped: number;
  /** The merged session's version: above both branches'. */
  readonly version: number;
}

export type MergeVerdict =
  /** Two different sessions under one id (another creation time or token): the newer wins. */
  | { readonly kind: 'distinct'; readonly newer: 'local' | 'redis' }
  /** Redis already holds everything the memory branch holds. */
  | { readonly kind: 'redis' }
  /** The memory branch holds everything Redis holds, at a higher version: written as it is. */
  | { readonly kind: 'local' }
  | { readonly kind: 'merged'; readonly value: string; readonly counts: MergeCounts };

/** Joins the memory branch (`local`) and Redis's of one session; throws a SessionError when a
 * value cannot be read or the merge cannot be stored. */
export type SessionMerge = (sessionId: string, local: string, redis: string) => MergeVerdict;

/** Why Redis's value is kept and the memory branch dropped. */
export type KeptReason = 'newer_version' | 'newer_creation' | 'unreadable_local';

export type WriteBackPlan =
  | {
      readonly action: 'write';
      readonly value: string;
      /** Exactly what was read from Redis (nothing: version 0), so a change since is seen. */
      readonly range: VersionRange;
      /** `replaced`: another session Redis held under this id gives way to a newer one. */
      readonly kind: 'local' | 'merged' | 'replaced';
      readonly counts?: MergeCounts;
    }
  | { readonly action: 'keep_redis'; readonly reason: KeptReason }
  /** Redis already holds what memory holds. */
  | { readonly action: 'none' }
  /** Redis holds an unreadable value: moved aside first, never written over. */
  | { readonly action: 'set_aside' };

/** The plan, and why the merge could not be used when it was given and failed. */
export interface PlannedWriteBack {
  readonly plan: WriteBackPlan;
  readonly mergeFailure?: string;
}

/** Decides what to write for `sessionId`: `local` is the memory copy, `redis` what Redis holds. */
export function planWriteBack(
  sessionId: string,
  local: string,
  redis: string | null,
  merge?: SessionMerge,
): PlannedWriteBack {
  if (redis === null) {
    return { plan: { action: 'write', value: local, range: { min: 0, max: 0 }, kind: 'local' } };
  }
  if (redis === local) return { plan: { action: 'none' } };
  const stored = storedStamp(redis);
  if (stored.version === -1) return { plan: { action: 'set_aside' } };
  const ours = storedStamp(local);
  if (ours.version === -1) return { plan: { action: 'keep_redis', reason: 'unreadable_local' } };
  const range: VersionRange = {
    min: stored.version,
    max: stored.version,
    ...(stored.createdAt !== null && { createdAt: stored.createdAt }),
  };
  let mergeFailure: string | undefined;
  if (merge) {
    try {
      return { plan: fromVerdict(merge(sessionId, local, redis), local, range) };
    } catch (error) {
      if (!(error instanceof SessionError)) throw error;
      mergeFailure = error.message;
    }
  }
  const plan: WriteBackPlan =
    ours.version > stored.version
      ? { action: 'write', value: local, range, kind: 'local' }
      : { action: 'keep_redis', reason: 'newer_version' };
  return mergeFailure === undefined ? { plan } : { plan, mergeFailure };
}

function fromVerdict(verdict: MergeVerdict, local: string, range: VersionRange): WriteBackPlan {
  switch (verdict.kind) {
    case 'distinct':
      return verdict.newer === 'local'
        ? { action: 'write', value: local, range, kind: 'replaced' }
        : { action: 'keep_redis', reason: 'newer_creation' };
    case 'redis':
      return { action: 'none' };
    case 'local':
      return { action: 'write', value: local, range, kind: 'local' };
    case 'merged':
      return {
        action: 'write',
        value: verdict.value,
        range,
        kind: 'merged',
        counts: verdict.counts,
      };
  }
}
