/**
 * Listing sessions: a page at a time with the store's cursor, reading only the head of each
 * value (its first HEAD_BYTES), filtered by id prefix and state. A value whose head cannot be
 * read is logged and left out; damage further into a value shows when the session is loaded.
 */
import type { AgentState } from '../agent/types.js';
import type { Logger } from '../logger.js';
import type { SessionCipher } from './cipher.js';
import { decodeHead, decodeSession, HEAD_BYTES, type SessionHead } from './codec.js';
import { SessionCorruptError } from './errors.js';
import type { SessionStore, StoredEntry } from './types.js';

export interface SessionSummary {
  sessionId: string;
  state: AgentState;
  currentAttempt: number;
  /** Remaining seconds; null for a session without expiry. */
  ttl: number | null;
  updatedAt: string;
  /** Size of the stored value, when the store can tell it cheaply. */
  bytes: number | undefined;
}

export interface SessionPage {
  sessions: SessionSummary[];
  /** Pass back for the next page; undefined at the end. */
  cursor: string | undefined;
}

export interface ListPageOptions {
  /** @default 1000 */
  limit?: number;
  cursor?: string | undefined;
  /** Only sessions whose id starts with this. */
  prefix?: string | undefined;
  /** Only sessions in this state. */
  state?: AgentState | undefined;
}

interface Filters {
  prefix?: string | undefined;
  state?: AgentState | undefined;
}

/** Sessions asked of the store at once when listing all of them. */
const ALL_CHUNK = 100;
/** The most sessions one store call is asked for (SCAN's COUNT on Redis): a page of a thousand
 * is one round trip, not ten. */
const CHUNK_MAX = 1000;
const DEFAULT_PAGE_LIMIT = 1000;

export class SessionListing {
  readonly #store: SessionStore;
  readonly #cipher: SessionCipher | undefined;
  readonly #logger: Logger;

  constructor(store: SessionStore, cipher: SessionCipher | undefined, logger: Logger) {
    this.#store = store;
    this.#cipher = cipher;
    this.#logger = logger;
  }

  /** Up to `limit` sessions (all by default), sorted by id. */
  async all(limit = Number.POSITIVE_INFINITY): Promise<SessionSummary[]> {
    const found = new Map<string, SessionSummary>();
    let cursor: string | undefined;
    do {
      const chunk = await this.#chunk(cursor, {}, ALL_CHUNK);
      for (const summary of chunk.sessions) {
        if (found.size < limit) found.set(summary.sessionId, summary);
      }
      cursor = chunk.cursor;
    } while (cursor !== undefined && found.size < limit);
    return [...found.values()].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
  }

  /**
   * One page and the cursor of the next one. A page holds at most `limit` sessions on memory; on
   * Redis, SCAN may return a few more than asked, and a page is never cut (the cut ones would be
   * skipped by the next cursor). A page may hold fewer before the end (filters, SCAN); the
   * listing is over when the cursor is undefined.
   */
  async page(options: ListPageOptions = {}): Promise<SessionPage> {
    const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
    const sessions: SessionSummary[] = [];
    const seen = new Set<string>();
    let cursor = options.cursor;
    do {
      const chunk = await this.#chunk(cursor, options, limit - sessions.length);
      for (const summary of chunk.sessions) {
        if (seen.has(summary.sessionId)) continue;
        seen.add(summary.sessionId);
        sessions.push(summary);
      }
      cursor = chunk.cursor;
    } while (cursor !== undefined && sessions.length < limit);
    return { sessions, cursor };
  }

  async #chunk(cursor: string | undefined, filters: Filters, limit: number): Promise<SessionPage> {
    const page = await this.#store.list({
      cursor,
      limit: Math.min(Math.max(limit, 1), CHUNK_MAX),
      headBytes: HEAD_BYTES,
    });
    const wanted = page.entries.filter(
      (entry) => filters.prefix === undefined || entry.id.startsWith(filters.prefix),
    );
    const heads = await Promise.all(wanted.map((entry) => this.#readHead(entry)));
    const sessions: SessionSummary[] = [];
    wanted.forEach((entry, i) => {
      const head = heads[i];
      if (head === undefined) return;
      if (filters.state !== undefined && head.state !== filters.state) return;
      sessions.push({
        sessionId: entry.id,
        state: head.state,
        currentAttempt: head.current_attempt,
        ttl: entry.ttl,
        updatedAt: head.updated_at,
        bytes: entry.bytes,
      });
    });
    return { sessions, cursor: page.cursor };
  }

  async #readHead(entry: StoredEntry): Promise<SessionHead | undefined> {
    try {
      const head = decodeHead(entry.id, entry.value);
      if (head) return head;
      // Not in canonical form (written by hand or by another tool): read the whole value.
      const raw = await this.#store.get(entry.id);
      return raw === null ? undefined : decodeSession(entry.id, raw, this.#cipher);
    } catch (error) {
      if (!(error instanceof SessionCorruptError)) throw error;
      this.#logger.error(
        { session_id: entry.id, event_type: 'session_corrupt', reason: error.message },
        'Sessão ilegível: fora da listagem',
      );
      return undefined;
    }
  }
}
