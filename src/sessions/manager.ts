/**
 * SessionManager: the only thing the API and the CLI talk to. It validates session ids, turns
 * agents into stored records and back through the codec, saves with compare-and-set on the
 * session's version (a stale save never overwrites), and hides which store is in use.
 *
 * Events: 'conflict' ({sessionId}) when a save met a newer version, 'corrupt' ({sessionId})
 * when an unreadable value was quarantined.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { OfflineResponder } from '../agent/offline-responder.js';
import { RepairAgent } from '../agent/repair-agent.js';
import type { AgentSnapshot, AgentState, Responder } from '../agent/types.js';
import { type Config, loadConfig } from '../config.js';
import { componentLogger, createLogger, type Logger } from '../logger.js';
import { cipherFor, type SessionCipher } from './cipher.js';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  HEAD_BYTES,
  SCHEMA_VERSION,
  type SessionHead,
  type SessionRecord,
} from './codec.js';
import { SessionConflictError, SessionCorruptError, SessionNotFoundError } from './errors.js';
import { openStore } from './open-store.js';
import { assertSessionId } from './session-id.js';
import type { SessionStore, StoreBackend, StoredEntry } from './types.js';

export interface SessionManagerOptions {
  /** @default loadConfig() */
  config?: Config;
  /** Root logger. @default a pino logger at config.logLevel on standard output */
  logger?: Logger;
  /** An open store to use instead of the configured one; closed by close(). */
  store?: SessionStore;
  /** Writes the agents' solutions. @default the offline knowledge-base responder */
  responder?: Responder;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface AgentOptions {
  /** @default true for a new session; an existing one keeps its own unless given */
  useRag?: boolean;
  /** @default true for a new session; an existing one keeps its own unless given */
  useWebSearch?: boolean;
}

export interface SessionSummary {
  sessionId: string;
  state: AgentState;
  currentAttempt: number;
  /** Remaining seconds; null for a session without expiry. */
  ttl: number | null;
}

export interface SessionDetails {
  record: SessionRecord;
  /** Remaining seconds; null for a session without expiry. */
  ttl: number | null;
}

/** What the manager remembers about an agent it handed out: the version it was loaded at. */
interface Provenance {
  sessionId: string;
  version: number;
  createdAt: string;
}

const LIST_PAGE_SIZE = 100;
/** A turn that keeps meeting newer versions is run again, with a growing random pause, this many
 * times at most (20 writers at once on one session need up to 20). */
const MAX_TURN_ROUNDS = 60;
const MAX_RETRY_PAUSE_MS = 50;

function toSnapshot(record: SessionRecord): AgentSnapshot {
  return {
    state: record.state,
    currentAttempt: record.current_attempt,
    maxAttempts: record.max_attempts,
    useRag: record.use_rag,
    useWebSearch: record.use_web_search,
    problem: record.problem,
    history: record.conversation_history,
  };
}

export class SessionManager extends EventEmitter {
  readonly store: SessionStore;
  readonly config: Config;
  /** Encrypts and opens stored conversations; undefined when no key is configured. */
  readonly cipher: SessionCipher | undefined;
  readonly #logger: Logger;
  readonly #responder: Responder;
  readonly #now: () => Date;
  readonly #provenanceOf = new WeakMap<RepairAgent, Provenance>();
  /** The end of each session's queue of turns in this process. */
  readonly #queues = new Map<string, Promise<void>>();

  private constructor(
    store: SessionStore,
    config: Config,
    logger: Logger,
    responder: Responder,
    now: () => Date,
  ) {
    super();
    this.store = store;
    this.config = config;
    this.cipher = cipherFor(config.encryptionKeys);
    this.#logger = componentLogger(logger, 'sessions.manager');
    this.#responder = responder;
    this.#now = now;
  }

  /** Opens the configured store (Redis with failover to memory, or memory). */
  static async create(options: SessionManagerOptions = {}): Promise<SessionManager> {
    const config = options.config ?? loadConfig();
    const logger = options.logger ?? createLogger({ level: config.logLevel });
    const responder = options.responder ?? (await OfflineResponder.fromDirectory());
    const store = options.store ?? (await openStore(config, logger));
    return new SessionManager(store, config, logger, responder, options.now ?? (() => new Date()));
  }

  get backend(): StoreBackend {
    return this.store.name;
  }

  /** Loads the session's agent, or creates and saves a new one. */
  async getOrCreateAgent(sessionId: string, options: AgentOptions = {}): Promise<RepairAgent> {
    return this.withSession(sessionId, async (agent) => agent, options, { saveExisting: false });
  }

  /**
   * Loads the session's agent (a new one if the session does not exist), runs `work` on it and
   * saves the result with compare-and-set, so a change can neither be left unsaved nor overwrite
   * a newer one. When another caller saved first, the whole turn runs again on their version.
   * Turns on one session in this process run one after the other (so a turn that calls a
   * language model is not run again because of a neighbour); between processes, compare-and-set
   * decides. With `mustExist`, a missing session is a SessionNotFoundError instead of a new one.
   * `work` must not call withSession for the same session (it would wait for itself).
   */
  withSession<T>(
    sessionId: string,
    work: (agent: RepairAgent) => Promise<T>,
    options: AgentOptions = {},
    flags: { saveExisting?: boolean; mustExist?: boolean } = {},
  ): Promise<T> {
    return this.#oneAtATime(sessionId, () => this.#turn(sessionId, work, options, flags));
  }

  /** Runs `task` after the tasks already queued for this session. */
  async #oneAtATime<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(sessionId);
    let done = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.#queues.set(sessionId, tail);
    try {
      if (previous) await previous;
      return await task();
    } finally {
      done();
      if (this.#queues.get(sessionId) === tail) this.#queues.delete(sessionId);
    }
  }

  async #turn<T>(
    sessionId: string,
    work: (agent: RepairAgent) => Promise<T>,
    options: AgentOptions,
    { saveExisting = true, mustExist = false },
  ): Promise<T> {
    for (let round = 1; ; round++) {
      const existing = await this.getAgent(sessionId);
      if (existing === null && mustExist) throw new SessionNotFoundError(sessionId);
      const agent = existing ?? this.#newAgent(options);
      if (existing !== null) {
        if (options.useRag !== undefined) existing.useRag = options.useRag;
        if (options.useWebSearch !== undefined) existing.useWebSearch = options.useWebSearch;
      }
      const result = await work(agent);
      if (existing !== null && !saveExisting) return result;
      try {
        await this.#save(sessionId, agent, this.#provenanceOf.get(agent));
        return result;
      } catch (error) {
        if (!(error instanceof SessionConflictError) || round >= MAX_TURN_ROUNDS) throw error;
        await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** round));
      }
    }
  }

  /** Loads the session's agent; null when it does not exist. An unreadable stored value is
   * quarantined (kept 7 days under `${prefix}corrupt:{id}`) and the session starts over. */
  async getAgent(sessionId: string): Promise<RepairAgent | null> {
    const record = await this.#load(sessionId);
    if (record === null) return null;
    const agent = RepairAgent.restore(toSnapshot(record), {
      responder: this.#responder,
      now: this.#now,
    });
    this.#remember(agent, sessionId, record);
    return agent;
  }

  /** The whole stored session and its TTL; null when it does not exist. */
  async getSession(sessionId: string): Promise<SessionDetails | null> {
    assertSessionId(sessionId);
    // Issued together: one round trip on Redis.
    const [record, ttl] = await Promise.all([this.#load(sessionId), this.store.ttl(sessionId)]);
    return record === null ? null : { record, ttl };
  }

  /**
   * Saves the agent: call it after every change, or the change is lost (in every backend).
   * Throws SessionConflictError when the session changed since this agent was loaded.
   */
  async updateAgent(sessionId: string, agent: RepairAgent): Promise<void> {
    assertSessionId(sessionId);
    const known = this.#provenanceOf.get(agent);
    if (known?.sessionId === sessionId) return this.#save(sessionId, agent, known);
    // An agent this manager did not load under this id continues the stored version.
    const stored = await this.#load(sessionId);
    const previous = stored && { sessionId, version: stored.version, createdAt: stored.created_at };
    return this.#save(sessionId, agent, previous ?? undefined);
  }

  /** True when a session was deleted. */
  async deleteSession(sessionId: string): Promise<boolean> {
    assertSessionId(sessionId);
    const deleted = await this.store.delete(sessionId);
    if (deleted) {
      this.#logger.info(
        { session_id: sessionId, event_type: 'session_deleted' },
        'Sessão removida',
      );
    }
    return deleted;
  }

  /** Remaining seconds; null without expiry; 0 when the session does not exist. */
  async getTtl(sessionId: string): Promise<number | null> {
    assertSessionId(sessionId);
    return this.store.ttl(sessionId);
  }

  /**
   * Up to `limit` sessions (all by default), sorted by id. A listing reads only the head of each
   * value: one whose head is unreadable is logged and skipped, and the whole value is validated
   * when the session is loaded.
   */
  async listSessions(options: { limit?: number } = {}): Promise<SessionSummary[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const found = new Map<string, SessionSummary>();
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ cursor, limit: LIST_PAGE_SIZE, headBytes: HEAD_BYTES });
      const heads = await Promise.all(page.entries.map((entry) => this.#readHead(entry)));
      page.entries.forEach((entry, i) => {
        const head = heads[i];
        if (head === undefined || found.size >= limit) return;
        found.set(entry.id, {
          sessionId: entry.id,
          state: head.state,
          currentAttempt: head.current_attempt,
          ttl: entry.ttl,
        });
      });
      cursor = page.cursor;
    } while (cursor !== undefined && found.size < limit);
    return [...found.values()].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  #newAgent(options: AgentOptions): RepairAgent {
    return new RepairAgent({
      responder: this.#responder,
      now: this.#now,
      maxAttempts: this.config.maxAttempts,
      useRag: options.useRag ?? true,
      useWebSearch: options.useWebSearch ?? true,
    });
  }

  /** The stored record, or null; an unreadable value is quarantined and reads as null. */
  async #load(sessionId: string): Promise<SessionRecord | null> {
    assertSessionId(sessionId);
    let raw: string | null = null;
    try {
      raw = await this.store.get(sessionId);
      return raw === null ? null : decodeSession(sessionId, raw, this.cipher);
    } catch (error) {
      if (!(error instanceof SessionCorruptError)) throw error;
      // Moves exactly what was read (or, for a key of another Redis type, that key).
      await this.store.quarantine(sessionId, raw ?? undefined);
      this.#logger.error(
        {
          session_id: sessionId,
          event_type: 'session_corrupt',
          reason: error.message,
          quarantined_as: `${this.config.keyPrefix}corrupt:${sessionId}`,
        },
        'Sessão ilegível: guardada para inspeção, uma nova sessão começa',
      );
      this.emit('corrupt', { sessionId });
      return null;
    }
  }

  /** Compare-and-set on the version the agent was loaded at (0: a new session). */
  async #save(
    sessionId: string,
    agent: RepairAgent,
    previous: Provenance | undefined,
  ): Promise<void> {
    const expected = previous?.version ?? 0;
    const { json, record } = this.#encode(sessionId, agent, previous);
    // The same version of the same session: one deleted and created again is another one.
    const write = await this.store.setIf(sessionId, json, this.config.sessionTtl, {
      min: expected,
      max: expected,
      createdAt: previous?.createdAt,
    });
    if (write.outcome === 'conflict') {
      this.#logger.info(
        {
          session_id: sessionId,
          expected_version: expected,
          stored_version: write.storedVersion,
          event_type: 'session_conflict',
        },
        'Sessão alterada por outra requisição: nada foi sobrescrito',
      );
      this.emit('conflict', { sessionId });
      throw new SessionConflictError(sessionId, expected, write.storedVersion);
    }
    this.#remember(agent, sessionId, record);
    if (expected === 0) {
      this.#logger.info(
        {
          session_id: sessionId,
          use_rag: agent.useRag,
          use_web_search: agent.useWebSearch,
          event_type: 'agent_created',
        },
        'Criando novo agente',
      );
    } else {
      this.#logger.debug(
        { session_id: sessionId, version: record.version, event_type: 'session_saved' },
        'Sessão salva',
      );
    }
  }

  #remember(agent: RepairAgent, sessionId: string, record: SessionRecord): void {
    this.#provenanceOf.set(agent, {
      sessionId,
      version: record.version,
      createdAt: record.created_at,
    });
  }

  #encode(sessionId: string, agent: RepairAgent, previous: Provenance | undefined) {
    const snapshot = agent.snapshot();
    const now = this.#now().toISOString();
    return encodeSession(
      sessionId,
      {
        schema_version: SCHEMA_VERSION,
        version: (previous?.version ?? 0) + 1,
        state: snapshot.state,
        current_attempt: snapshot.currentAttempt,
        max_attempts: snapshot.maxAttempts,
        use_rag: snapshot.useRag,
        use_web_search: snapshot.useWebSearch,
        created_at: previous?.createdAt ?? now,
        updated_at: now,
        problem: snapshot.problem,
        // snapshot() already returned a fresh array: no second copy on every save.
        conversation_history: snapshot.history as SessionRecord['conversation_history'],
      },
      {
        maxHistoryMessages: this.config.maxHistoryMessages,
        maxBytes: this.config.sessionMaxBytes,
        cipher: this.cipher,
      },
    );
  }

  async #readHead(entry: StoredEntry): Promise<SessionHead | undefined> {
    try {
      const head = decodeHead(entry.id, entry.value);
      if (head) return head;
      // Not in canonical form (written by hand or by another tool): read the whole value.
      const raw = await this.store.get(entry.id);
      return raw === null ? undefined : decodeSession(entry.id, raw, this.cipher);
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
