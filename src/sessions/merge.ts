/**
 * The record-level merge of a session whose memory copy and Redis value diverged while Redis
 * was away (two instances each took turns on their own copy). Nothing acknowledged is dropped
 * silently: every message of both branches is kept once, in time order, after the later reset;
 * the conversation's state comes from the branch saved last; what the history and size limits
 * then leave out is counted. The failover store calls it with strings (see
 * stores/write-back.ts); this side knows the codec and the cipher.
 */
import type { ChatMessage } from '../agent/types.js';
import type { SessionCipher } from './cipher.js';
import { decodeSession, encodeSession, type SessionRecord } from './codec.js';
import { SessionTooLargeError } from './errors.js';
import type { MergeCounts, MergeVerdict, SessionMerge } from './stores/write-back.js';

export interface MergeLimits {
  /** MAX_HISTORY_MESSAGES: older messages beyond it are left out, and counted. */
  maxHistoryMessages: number;
  /** SESSION_MAX_BYTES: the oldest messages are left out until the merge fits, and counted. */
  maxBytes: number;
  /** Opens and seals encrypted conversations. @default none: stored in clear */
  cipher?: SessionCipher | undefined;
}

/** The merge the failover store is given: decodes both values, merges, encodes. */
export function sessionMerge(limits: MergeLimits): SessionMerge {
  return (sessionId, local, redis) =>
    mergeRecords(
      sessionId,
      decodeSession(sessionId, local, limits.cipher),
      decodeSession(sessionId, redis, limits.cipher),
      limits,
    );
}

type Message = SessionRecord['conversation_history'][number];

const time = (at: string) => Date.parse(at);

/** One message, whichever branch holds it: the same role, time and text. */
const identity = (message: ChatMessage) =>
  `${message.role}\u0000${message.at}\u0000${message.content}`;

/**
 * Merges two branches of one session. Different sessions under one id (another creation time
 * or token) are not merged: the newer creation wins. Throws SessionTooLargeError when even an
 * empty history does not fit SESSION_MAX_BYTES.
 */
export function mergeRecords(
  sessionId: string,
  local: SessionRecord,
  redis: SessionRecord,
  limits: MergeLimits,
): MergeVerdict {
  if (local.created_at !== redis.created_at || local.token_sha256 !== redis.token_sha256) {
    return {
      kind: 'distinct',
      newer: time(local.created_at) > time(redis.created_at) ? 'local' : 'redis',
    };
  }
  const resetAt = laterReset(local.reset_at, redis.reset_at);
  const localMessages = afterReset(local, resetAt);
  const redisMessages = afterReset(redis, resetAt);
  // A message both hold is one message: counted as many times as Redis holds it.
  const inRedis = new Map<string, number>();
  for (const message of redisMessages) {
    inRedis.set(identity(message), (inRedis.get(identity(message)) ?? 0) + 1);
  }
  const localOnly: Message[] = [];
  for (const message of localMessages) {
    const left = inRedis.get(identity(message)) ?? 0;
    if (left > 0) inRedis.set(identity(message), left - 1);
    else localOnly.push(message);
  }
  const duplicates = localMessages.length - localOnly.length;
  // Ties go to Redis's branch, whose session was saved there first.
  const latest = time(local.updated_at) > time(redis.updated_at) ? local : redis;
  const merged: SessionRecord = {
    ...latest,
    version: Math.max(local.version, redis.version) + 1,
    reset_at: resetAt,
    conversation_history: interleave(redisMessages, localOnly),
  };
  if (sameContent(merged, local) && local.version > redis.version) return { kind: 'local' };
  if (sameContent(merged, redis)) return { kind: 'redis' };
  const { json, dropped } = fit(sessionId, merged, limits);
  const counts: MergeCounts = {
    localOnly: localOnly.length,
    redisOnly: redisMessages.length - duplicates,
    duplicates,
    beforeReset:
      local.conversation_history.length -
      localMessages.length +
      (redis.conversation_history.length - redisMessages.length),
    dropped,
    version: merged.version,
  };
  return { kind: 'merged', value: json, counts };
}

function laterReset(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return a ?? b;
  return time(a) >= time(b) ? a : b;
}

/** The messages of `record` after the reset at `resetAt`: all of them when that reset is its own
 * (its history was cleared then); else those written after it. */
function afterReset(record: SessionRecord, resetAt: string | null): readonly Message[] {
  if (resetAt === null || record.reset_at === resetAt) return record.conversation_history;
  const reset = time(resetAt);
  return record.conversation_history.filter((message) => time(message.at) > reset);
}

/** Both sequences in time order, each keeping its own order (ties: `first`'s message first). */
function interleave(first: readonly Message[], second: readonly Message[]): Message[] {
  const out: Message[] = [];
  let i = 0;
  let j = 0;
  while (i < first.length || j < second.length) {
    const a = first[i];
    const b = second[j];
    if (a !== undefined && (b === undefined || time(a.at) <= time(b.at))) {
      out.push(a);
      i++;
    } else if (b !== undefined) {
      out.push(b);
      j++;
    }
  }
  return out;
}

/** Whether two records hold the same conversation, whatever their versions and save times. */
function sameContent(a: SessionRecord, b: SessionRecord): boolean {
  const content = (r: SessionRecord) =>
    JSON.stringify([
      r.state,
      r.current_attempt,
      r.max_attempts,
      r.use_rag,
      r.use_web_search,
      r.problem,
      r.topic,
      r.reset_at,
      r.conversation_history.map(identity),
    ]);
  return content(a) === content(b);
}

/**
 * Encodes the merge, leaving out the oldest messages beyond MAX_HISTORY_MESSAGES and then as
 * few more as SESSION_MAX_BYTES needs (found by bisection: a shorter history is never larger).
 */
function fit(
  sessionId: string,
  record: SessionRecord,
  limits: MergeLimits,
): { json: string; dropped: number } {
  const history = record.conversation_history;
  const encode = (drop: number): string | undefined => {
    try {
      return encodeSession(
        sessionId,
        { ...record, conversation_history: history.slice(drop) },
        limits,
      ).json;
    } catch (error) {
      if (error instanceof SessionTooLargeError) return undefined;
      throw error;
    }
  };
  const beyondLimit = Math.max(0, history.length - limits.maxHistoryMessages);
  const first = encode(beyondLimit);
  if (first !== undefined) return { json: first, dropped: beyondLimit };
  // Not even the conversation's state fits: SessionTooLargeError, and Redis's value is kept.
  let json = encodeSession(sessionId, { ...record, conversation_history: [] }, limits).json;
  // Dropping `tooFew` is not enough; dropping `enough` is.
  let tooFew = beyondLimit;
  let enough = history.length;
  while (enough - tooFew > 1) {
    const middle = Math.floor((tooFew + enough) / 2);
    const attempt = encode(middle);
    if (attempt === undefined) tooFew = middle;
    else {
      enough = middle;
      json = attempt;
    }
  }
  return { json, dropped: enough };
}
