/**
 * Export and import of sessions as JSON lines, one session per line with its remaining TTL:
 * backups, restores, and the move from memory to Redis. An import never overwrites a newer
 * version of a session, and a bad line is reported by number while the others still import.
 */
import { decodeSession, encodeSession, type SessionRecord } from './codec.js';
import { SessionCorruptError } from './errors.js';
import { isValidSessionId } from './session-id.js';
import type { SessionStore } from './types.js';

/** One line of an export file. */
export interface ExportedSession {
  session_id: string;
  /** Remaining seconds when exported; null for a session without expiry. */
  ttl: number | null;
  session: SessionRecord;
}

export interface ImportReport {
  imported: number;
  /** Already stored in the same or a newer version. */
  skipped: number;
  /** Expired (TTL 0) when exported. */
  expired: number;
  failed: Array<{ line: number; reason: string }>;
}

/** Every readable session of a store; unreadable values are reported through `onCorrupt`. */
export async function* exportSessions(
  store: SessionStore,
  onCorrupt: (sessionId: string, reason: string) => void = () => {},
): AsyncGenerator<ExportedSession> {
  let cursor: string | undefined;
  do {
    const page = await store.list({ cursor, limit: 500 });
    for (const entry of page.entries) {
      try {
        yield {
          session_id: entry.id,
          ttl: entry.ttl,
          session: decodeSession(entry.id, entry.value),
        };
      } catch (error) {
        if (!(error instanceof SessionCorruptError)) throw error;
        onCorrupt(entry.id, error.message);
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

function parseLine(text: string): ExportedSession {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const line = value as Partial<ExportedSession> | null;
  if (typeof line !== 'object' || line === null) throw new Error('not a JSON object');
  if (!isValidSessionId(line.session_id)) throw new Error('session_id missing or invalid');
  if (line.ttl !== null && !(Number.isSafeInteger(line.ttl) && (line.ttl as number) >= 0)) {
    throw new Error('ttl must be a whole number of seconds or null');
  }
  // Validated like a stored value: the same rules, the same messages.
  const session = decodeSession(line.session_id, JSON.stringify(line.session ?? null));
  return { session_id: line.session_id, ttl: line.ttl ?? null, session };
}

export interface ImportOptions {
  /** TTL for sessions exported without one. */
  defaultTtl: number;
  maxHistoryMessages: number;
  maxBytes: number;
  /** Called after each line. */
  onProgress?: (done: number) => void;
}

/** Writes each line's session unless the store holds the same or a newer version. */
export async function importSessions(
  store: SessionStore,
  lines: AsyncIterable<string>,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, skipped: 0, expired: 0, failed: [] };
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    try {
      const { session_id, ttl, session } = parseLine(text);
      if (ttl === 0) {
        report.expired++;
        continue;
      }
      const { json } = encodeSession(session_id, session, options);
      const write = await store.setIf(session_id, json, ttl ?? options.defaultTtl, {
        min: -1,
        max: session.version - 1,
      });
      if (write.outcome === 'written') report.imported++;
      else report.skipped++;
    } catch (error) {
      report.failed.push({ line: number, reason: (error as Error).message });
    }
    options.onProgress?.(number);
  }
  return report;
}
