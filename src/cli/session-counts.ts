/**
 * Sessions counted by state for `cql-agent sessions stats`, from the head of each value: SCAN
 * with a large COUNT and pipelined GETRANGE, never the conversations. A head the codec did not
 * write in canonical form is read whole; an unreadable value is left out, as listings leave it.
 */
import type { AgentState } from '../agent/types.js';
import type { SessionCipher } from '../sessions/cipher.js';
import { decodeHead, decodeSession, HEAD_BYTES, type SessionHead } from '../sessions/codec.js';
import { SessionCorruptError } from '../sessions/errors.js';
import type { RedisSessionStore } from '../sessions/stores/redis.js';

export interface SessionCounts {
  /** Readable sessions. */
  total: number;
  byState: Map<AgentState, number>;
}

export interface CountOptions {
  /** Opens encrypted values that must be read whole. */
  cipher: SessionCipher | undefined;
  /** Told the keys examined so far after each page. */
  onProgress?: (scanned: number) => void;
}

export async function countSessions(
  store: RedisSessionStore,
  options: CountOptions,
): Promise<SessionCounts> {
  const byState = new Map<AgentState, number>();
  // SCAN may return a key twice (while Redis resizes its table): each session counts once.
  const seen = new Set<string>();
  let scanned = 0;
  for await (const page of store.heads({ headBytes: HEAD_BYTES })) {
    for (const { id, value } of page.entries) {
      if (seen.has(id)) continue;
      seen.add(id);
      const head = headOf(id, value) ?? (await readWhole(store, id, options.cipher));
      if (head !== null) byState.set(head.state, (byState.get(head.state) ?? 0) + 1);
    }
    scanned += page.scanned;
    options.onProgress?.(scanned);
  }
  let total = 0;
  for (const n of byState.values()) total += n;
  return { total, byState };
}

/** The head read from the first bytes; undefined when not in canonical form (then the whole
 * value must be read), null when unreadable. */
function headOf(id: string, prefix: string): SessionHead | null | undefined {
  try {
    return decodeHead(id, prefix);
  } catch (error) {
    if (error instanceof SessionCorruptError) return null;
    throw error;
  }
}

/** A value not in canonical form (written by hand or by another tool), read whole; null when
 * unreadable or gone. */
async function readWhole(
  store: RedisSessionStore,
  id: string,
  cipher: SessionCipher | undefined,
): Promise<SessionHead | null> {
  try {
    const raw = await store.get(id);
    return raw === null ? null : decodeSession(id, raw, cipher);
  } catch (error) {
    if (error instanceof SessionCorruptError) return null;
    throw error;
  }
}
