/**
 * Export and import of sessions as JSON lines, one session per line with its expiry: backups,
 * restores, and the move from memory to Redis. An import never overwrites a session that was
 * updated later than the imported one (whether it is the same conversation or a new one under the
 * same id), keeps the original expiry time, and reports a bad line by number while the others
 * still import.
 *
 * Encrypted sessions stay encrypted in the file: an export checks that each one opens with the
 * configured keys and writes it as stored; an import opens each one (so its key must be
 * configured) and stores it encrypted with the current writing key.
 *
 * An import trusts nothing in the file: the expiry is capped at MAX_SESSION_TTL_SECONDS, and a
 * line longer than maxImportLineBytes() is reported without being read whole (see readLines).
 */
import { MAX_SESSION_TTL_SECONDS } from '../config.js';
import { UnreadLine } from '../files/read-lines.js';
import type { SessionCipher } from './cipher.js';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  type SessionRecord,
  storedStamp,
} from './codec.js';
import { SessionCorruptError } from './errors.js';
import { isValidSessionId } from './session-id.js';
import type { SessionStore } from './types.js';

/** One line of an export file. */
export interface ExportedSession {
  session_id: string;
  /** Remaining seconds when exported; null for a session without expiry. */
  ttl: number | null;
  /** When the session expires (ISO 8601); what an import goes by. null: no expiry. */
  expires_at: string | null;
  /** The session as stored: a SessionRecord, or its head and `sealed` body when encrypted. */
  session: object;
}

/** Why a line was not imported, for a message in the reader's language. */
export type ImportProblem =
  | { code: 'line_too_long'; bytes: number; limit: number }
  | { code: 'not_utf8' }
  | { code: 'not_json' }
  | { code: 'not_object' }
  | { code: 'bad_session_id' }
  | { code: 'bad_expires_at' }
  | { code: 'bad_ttl' }
  /** The session itself was refused (a SessionError: unreadable, too large...) or the store
   * failed. */
  | { code: 'error'; error: Error };

export interface ImportFailure {
  /** 1 for the first line of the file. */
  line: number;
  /** In English, for logs. */
  reason: string;
  problem: ImportProblem;
}

export interface ImportReport {
  imported: number;
  /** A session updated as late or later is already stored. */
  skipped: number;
  /** Past its expiry time. */
  expired: number;
  failed: ImportFailure[];
}

/**
 * Room on a line beside the session itself. The session in a line is its stored JSON, which
 * SESSION_MAX_BYTES already bounds with any base64 of an encrypted body and any escapes (it is
 * embedded as an object, not as a string, so nothing is escaped twice). The wrapper around it
 * (`session_id` of up to 128 characters, `ttl`, `expires_at` and the keys) takes about 250
 * bytes; the rest leaves room for a file written by another tool with spaces or `\u` escapes.
 */
export const IMPORT_LINE_OVERHEAD_BYTES = 16 * 1024;

/** The longest line an import reads: longer ones are counted, dropped and reported. */
export function maxImportLineBytes(sessionMaxBytes: number): number {
  return sessionMaxBytes + IMPORT_LINE_OVERHEAD_BYTES;
}

export interface ExportOptions {
  /** Opens encrypted sessions (to check them). @default none: encrypted ones are unreadable */
  cipher?: SessionCipher | undefined;
  /** Told of each unreadable session, which is left out. */
  onCorrupt?: (sessionId: string, reason: string) => void;
}

/** Every readable session of a store; unreadable values are reported through `onCorrupt`. */
export async function* exportSessions(
  store: SessionStore,
  options: ExportOptions = {},
): AsyncGenerator<ExportedSession> {
  let cursor: string | undefined;
  do {
    const page = await store.list({ cursor, limit: 500 });
    const now = Date.now();
    for (const entry of page.entries) {
      try {
        const record = decodeSession(entry.id, entry.value, options.cipher);
        // As stored (still encrypted); decodeSession has just parsed the same text.
        const session = options.cipher ? (JSON.parse(entry.value) as object) : record;
        const expires_at =
          entry.ttl === null ? null : new Date(now + entry.ttl * 1000).toISOString();
        yield { session_id: entry.id, ttl: entry.ttl, expires_at, session };
      } catch (error) {
        if (!(error instanceof SessionCorruptError)) throw error;
        options.onCorrupt?.(entry.id, error.message);
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

interface ParsedLine {
  sessionId: string;
  /** Seconds left now; null: no expiry known. */
  ttl: number | null;
  session: SessionRecord;
}

/** A line refused before its session is looked at. */
class LineRefusedError extends Error {
  constructor(
    readonly problem: ImportProblem,
    reason: string,
  ) {
    super(reason);
  }
}

function parseLine(text: string, now: number, cipher: SessionCipher | undefined): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineRefusedError({ code: 'not_json' }, 'not valid JSON');
  }
  const line = value as Partial<ExportedSession> | null;
  if (typeof line !== 'object' || line === null || Array.isArray(line))
    throw new LineRefusedError({ code: 'not_object' }, 'not a JSON object');
  if (!isValidSessionId(line.session_id))
    throw new LineRefusedError({ code: 'bad_session_id' }, 'session_id missing or invalid');
  let ttl: number | null;
  if (typeof line.expires_at === 'string') {
    const at = Date.parse(line.expires_at);
    if (Number.isNaN(at))
      throw new LineRefusedError({ code: 'bad_expires_at' }, 'expires_at is not a date');
    ttl = Math.max(0, Math.ceil((at - now) / 1000));
  } else if (line.ttl === null || line.ttl === undefined) {
    ttl = null;
  } else if (Number.isSafeInteger(line.ttl) && line.ttl >= 0) {
    ttl = line.ttl;
  } else {
    throw new LineRefusedError(
      { code: 'bad_ttl' },
      'ttl must be a whole number of seconds or null',
    );
  }
  // No file sets a longer life than the configuration allows (an expiry in year 9999 would be
  // 251 billion seconds).
  if (ttl !== null) ttl = Math.min(ttl, MAX_SESSION_TTL_SECONDS);
  // Validated like a stored value: the same rules, the same messages.
  const session = decodeSession(line.session_id, JSON.stringify(line.session ?? null), cipher);
  return { sessionId: line.session_id, ttl, session };
}

export interface ImportOptions {
  /** TTL for sessions exported without an expiry (written by hand: every save sets one). */
  defaultTtl: number;
  maxHistoryMessages: number;
  maxBytes: number;
  /** Opens encrypted lines and encrypts what is stored. @default none */
  cipher?: SessionCipher | undefined;
  /** Called after each line. */
  onProgress?: (done: number) => void;
}

/** Writes one session unless the store holds one updated as late or later. */
async function importOne(
  store: SessionStore,
  line: ParsedLine,
  json: string,
  ttl: number,
  cipher: SessionCipher | undefined,
): Promise<boolean> {
  const current = await store.get(line.sessionId);
  const stamp = storedStamp(current);
  if (current !== null && stamp.version >= 0) {
    // The head says when it was updated, without opening an encrypted body.
    const stored =
      decodeHead(line.sessionId, current) ?? decodeSession(line.sessionId, current, cipher);
    if (stored.updated_at >= line.session.updated_at) return false;
  }
  // Over exactly what was read (or nothing, or an unreadable value): a write meanwhile wins.
  const write = await store.setIf(line.sessionId, json, ttl, {
    min: stamp.version,
    max: stamp.version,
    createdAt: stamp.createdAt ?? undefined,
  });
  return write.outcome === 'written';
}

function failure(line: number, error: unknown): ImportFailure {
  if (error instanceof LineRefusedError)
    return { line, reason: error.message, problem: error.problem };
  const cause = error instanceof Error ? error : new Error(String(error));
  return { line, reason: cause.message, problem: { code: 'error', error: cause } };
}

function unread(line: number, text: UnreadLine): ImportFailure {
  if (text.problem === 'not-utf8')
    return { line, reason: 'not valid UTF-8', problem: { code: 'not_utf8' } };
  return {
    line,
    reason: `line of ${text.bytes} bytes, over the ${text.maxBytes}-byte limit`,
    problem: { code: 'line_too_long', bytes: text.bytes, limit: text.maxBytes },
  };
}

/**
 * Imports each line in turn; `lines` gives the n-th line of the file as its n-th value (from
 * readLines, which also hands over the lines it did not read as UnreadLine).
 */
export async function importSessions(
  store: SessionStore,
  lines: AsyncIterable<string | UnreadLine>,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, skipped: 0, expired: 0, failed: [] };
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text instanceof UnreadLine) {
      report.failed.push(unread(number, text));
      options.onProgress?.(number);
      continue;
    }
    if (text.trim() === '') continue;
    try {
      const line = parseLine(text, Date.now(), options.cipher);
      if (line.ttl === 0) {
        report.expired++;
      } else {
        const { json } = encodeSession(line.sessionId, line.session, options);
        const ttl = line.ttl ?? options.defaultTtl;
        if (await importOne(store, line, json, ttl, options.cipher)) report.imported++;
        else report.skipped++;
      }
    } catch (error) {
      report.failed.push(failure(number, error));
    }
    options.onProgress?.(number);
  }
  return report;
}
