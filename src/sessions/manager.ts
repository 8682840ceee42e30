/**
 * SessionManager: the only thing the API and the CLI talk to. It validates session ids, checks
 * who may act on a session (its token), turns agents into stored records and back through the
 * codec, saves with compare-and-set on the session's version (a stale save never overwrites),
 * and hides which store is in use. It is given its parts (see src/app.ts, which wires them).
 *
 * Events: 'conflict' ({sessionId}) when a save met a newer version, 'corrupt' ({sessionId})
 * when an unreadable value was moved aside, 'turn' (TurnOutcome) after each saved turn.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError } from '../agent/llm/errors.js';
import { RepairAgent } from '../agent/repair-agent.js';
import type {
  AgentSnapshot,
  AgentState,
  ChatMessage,
  Responder,
  TurnResult,
} from '../agent/types.js';
import type { Config } from '../config.js';
import { isoTime } from '../iso-time.js';
import { componentLogger, type Logger } from '../logger.js';
import { mayAccess, newSessionToken, type SessionAccess, tokenSha256 } from './access.js';
import { cipherFor, type SessionCipher } from './cipher.js';
import { SCHEMA_VERSION, type SessionRecord } from './codec.js';
import {
  SessionAccessDeniedError,
  SessionConflictError,
  SessionNotFoundError,
  SessionTooLargeError,
} from './errors.js';
import {
  type ListPageOptions,
  SessionListing,
  type SessionPage,
  type SessionSummary,
} from './listing.js';
import { OneAtATime } from './one-at-a-time.js';
import { SessionRecords } from './records.js';
import { assertSessionId } from './session-id.js';
import { type ExportedSession, exportSessions } from './transfer.js';
import type { SessionStore, StoreBackend, StoreStatus } from './types.js';

export interface SessionManagerOptions {
  /** An open store; closed by close(). */
  store: SessionStore;
  config: Config;
  /** Root logger. */
  logger: Logger;
  /** Writes the agents' solutions. */
  responder: Responder;
  /** @default () => new Date() */
  now?: () => Date;
  /** Other resources that live as long as the sessions (the outcome counters' connection),
   * closed by close() after the store. @default [] */
  alsoClose?: ReadonlyArray<{ close(): Promise<void> }>;
}

export interface AgentOptions {
  /** @default true for a new session; an existing one keeps its own unless given */
  useRag?: boolean;
  /** @default true for a new session; an existing one keeps its own unless given */
  useWebSearch?: boolean;
}

/** Who is asking: the session token they presented (the `X-Session-Token` header). */
export interface Caller {
  token?: string | undefined;
}

export interface TurnOptions extends AgentOptions, Caller {
  /** The token a session this turn creates gets, instead of a random one: for callers that
   * prove who they are otherwise and derive the token from their own secret (the
   * OpenAI-compatible endpoint). Never from a client's input. */
  createWithToken?: string;
  /** Told each piece of the reply as it is written; concatenated, they are the reply. Once the
   * first piece is out, the turn is never run again: a newer version met at save time gets the
   * finished turn applied to it if it is still where the turn started, or a conflict. */
  onDelta?: (text: string) => void;
  /** Called once the session is loaded and the caller may act on it, before the turn runs: a
   * streamed answer starts there, so that a refusal is still a plain error. */
  onAccepted?: () => void;
}

/** One answered and saved message. */
export interface TurnOutcome {
  sessionId: string;
  result: TurnResult;
  state: AgentState;
  currentAttempt: number;
  maxAttempts: number;
  useRag: boolean;
  useWebSearch: boolean;
  /** The token of the session this turn created, to give its client once; undefined when the
   * session already existed. */
  token: string | undefined;
  /** The knowledge-base guide of the first answer of the current problem, if any. */
  topic: string | undefined;
  /** The state the turn started from. */
  previousState: AgentState;
}

/** A conversation as its token holder reads it back. */
export interface SessionHistory {
  sessionId: string;
  state: AgentState;
  currentAttempt: number;
  maxAttempts: number;
  messages: readonly ChatMessage[];
  updatedAt: string;
}

export type { ListPageOptions, SessionPage, SessionSummary } from './listing.js';

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
  resetAt: string | null;
  tokenSha256: string | null;
  topic: string | null;
  /** The write stamp of that version (codec writeStamp), when known. */
  stamp: string | undefined;
}

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

/** Where a turn starts from: a newer version in the same place can take the finished turn. */
function samePlace(a: AgentSnapshot, b: AgentSnapshot): boolean {
  return (
    a.state === b.state &&
    a.currentAttempt === b.currentAttempt &&
    a.problem === b.problem &&
    a.maxAttempts === b.maxAttempts
  );
}

export class SessionManager extends EventEmitter {
  readonly config: Config;
  readonly #store: SessionStore;
  /** Encrypts and opens stored conversations; undefined when no key is configured. */
  readonly #cipher: SessionCipher | undefined;
  readonly #logger: Logger;
  readonly #responder: Responder;
  readonly #now: () => Date;
  readonly #access: SessionAccess;
  readonly #alsoClose: ReadonlyArray<{ close(): Promise<void> }>;
  readonly #provenanceOf = new WeakMap<RepairAgent, Provenance>();
  /** The end of each session's queue of turns in this process. */
  readonly #queue = new OneAtATime();
  readonly #listing: SessionListing;
  readonly #records: SessionRecords;

  constructor(options: SessionManagerOptions) {
    super();
    this.#store = options.store;
    this.config = options.config;
    this.#cipher = cipherFor(options.config.encryptionKeys);
    this.#logger = componentLogger(options.logger, 'sessions.manager');
    this.#responder = options.responder;
    this.#now = options.now ?? (() => new Date());
    this.#access = options.config.sessionAccess;
    this.#alsoClose = options.alsoClose ?? [];
    this.#listing = new SessionListing(this.#store, this.#cipher, this.#logger);
    this.#records = new SessionRecords({
      store: this.#store,
      config: this.config,
      cipher: this.#cipher,
      logger: this.#logger,
      emit: (event, payload) => this.emit(event, payload),
    });
  }

  /**
   * Up to `limit` sessions (all by default), sorted by id: the original `list_sessions`. A
   * listing reads only the head of each value; see listPage() for paging through many.
   */
  listSessions(options: { limit?: number } = {}): Promise<SessionSummary[]> {
    return this.#listing.all(options.limit);
  }

  /**
   * One page of about `limit` sessions (in the store's order) and the cursor of the next one,
   * filtered by id prefix and state: see SessionListing.page.
   */
  listPage(options: ListPageOptions = {}): Promise<SessionPage> {
    return this.#listing.page(options);
  }

  get backend(): StoreBackend {
    return this.#store.name;
  }

  /** Whether the store can serve requests right now. */
  get connected(): boolean {
    return this.#store.connected;
  }

  /** Where the store stands (Redis memory, evictions, why it is degraded). */
  status(): Promise<StoreStatus> {
    return this.#store.status();
  }

  /** Every readable session as export lines (encrypted ones stay encrypted); unreadable values
   * are reported through `onCorrupt` and left out. */
  export(
    options: { onCorrupt?: (sessionId: string, reason: string) => void } = {},
  ): AsyncGenerator<ExportedSession> {
    return exportSessions(this.#store, { cipher: this.#cipher, onCorrupt: options.onCorrupt });
  }

  /**
   * Answers one message of a conversation and saves it: loads the session (a new one when it
   * does not exist, under a fresh random id when `sessionId` is undefined), checks the caller's
   * token, runs the turn, and saves with compare-and-set. When another writer saved first, the
   * whole turn runs again on their version (a streamed turn is applied to it instead, see
   * TurnOptions.onDelta). Turns on one session in this process run one after the other.
   * Throws SessionAccessDeniedError when the session is someone else's.
   */
  runTurn(
    sessionId: string | undefined,
    message: string,
    options: TurnOptions = {},
  ): Promise<TurnOutcome> {
    const id = sessionId ?? randomUUID();
    assertSessionId(id);
    return this.#queue.run(id, () => this.#runTurn(id, sessionId === undefined, message, options));
  }

  async #runTurn(
    sessionId: string,
    fresh: boolean,
    message: string,
    options: TurnOptions,
  ): Promise<TurnOutcome> {
    let streamed = false;
    const onDelta =
      options.onDelta &&
      ((text: string) => {
        streamed = true;
        options.onDelta?.(text);
      });
    let finished: { agent: RepairAgent; result: TurnResult; before: AgentSnapshot } | undefined;
    for (let round = 1; ; round++) {
      // A server-made id is new: there is nothing to load (nor to check, during an outage).
      const record = fresh && round === 1 ? null : await this.#records.load(sessionId);
      if (record !== null && !mayAccess(this.#access, record.token_sha256, options.token)) {
        throw new SessionAccessDeniedError(sessionId, options.token !== undefined);
      }
      if (round === 1) options.onAccepted?.();
      const token = record === null ? (options.createWithToken ?? newSessionToken()) : undefined;
      let agent = this.#agentFor(sessionId, record, options, token);
      const before = agent.snapshot();
      let result: TurnResult;
      if (finished && streamed) {
        // The reply is out: apply it to this newer version if the turn still fits, never rerun.
        if (!samePlace(before, finished.before)) {
          throw new SessionConflictError(sessionId, finished.before.currentAttempt, -1);
        }
        const done = finished.agent.snapshot();
        const added = done.history.slice(finished.before.history.length);
        agent = this.#withSnapshot(agent, { ...done, history: [...before.history, ...added] });
        result = finished.result;
      } else {
        result = await agent.respond(message, { onDelta });
        finished = { agent, result, before };
      }
      // A first answer to a problem names its topic: the guide it came from.
      const firstAnswer = before.state !== 'waiting_feedback' && agent.state === 'waiting_feedback';
      const topic = firstAnswer ? (result.sources[0] ?? null) : (record?.topic ?? null);
      try {
        await this.#save(sessionId, agent, this.#provenanceOf.get(agent), { topic });
      } catch (error) {
        if (error instanceof SessionTooLargeError && this.#modelWrote(result)) {
          throw new UpstreamError('too_large', result.responder, error.message, { cause: error });
        }
        if (!(error instanceof SessionConflictError) || round >= MAX_TURN_ROUNDS) throw error;
        await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** round));
        continue;
      }
      const outcome: TurnOutcome = {
        sessionId,
        result,
        state: agent.state,
        currentAttempt: agent.currentAttempt,
        maxAttempts: agent.maxAttempts,
        useRag: agent.useRag,
        useWebSearch: agent.useWebSearch,
        token,
        topic: topic ?? undefined,
        previousState: before.state,
      };
      this.emit('turn', outcome);
      return outcome;
    }
  }

  /** A reply a language model wrote (not the knowledge base's, nor a fixed one). */
  #modelWrote(result: TurnResult): boolean {
    return result.solved && result.responder !== 'offline' && !result.fallbackUsed;
  }

  /**
   * Starts the conversation over (a new problem, attempt 0, no history). An unknown session and
   * one held by someone else both answer SessionNotFoundError, so a reset reveals nothing. A
   * session that had no token gets one: it is returned (undefined otherwise).
   */
  resetSession(sessionId: string, caller: Caller = {}): Promise<{ token: string | undefined }> {
    assertSessionId(sessionId);
    return this.#queue.run(sessionId, async () => {
      for (let round = 1; ; round++) {
        const record = await this.#records.load(sessionId);
        if (record === null || !mayAccess(this.#access, record.token_sha256, caller.token)) {
          throw new SessionNotFoundError(sessionId);
        }
        const token = record.token_sha256 === null ? newSessionToken() : undefined;
        const agent = this.#agentFor(sessionId, record, {}, token);
        agent.reset();
        const provenance = this.#provenanceOf.get(agent);
        try {
          await this.#save(sessionId, agent, provenance, { reset: true, topic: null });
          this.#logger.info(
            { session_id: sessionId, event_type: 'session_reset' },
            'Sessão reiniciada',
          );
          return { token };
        } catch (error) {
          if (!(error instanceof SessionConflictError) || round >= MAX_TURN_ROUNDS) throw error;
          await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** round));
        }
      }
    });
  }

  /** The conversation, for the holder of its token; SessionNotFoundError for an unknown
   * session and for one held by someone else alike. */
  async history(sessionId: string, caller: Caller = {}): Promise<SessionHistory> {
    const record = await this.#records.load(sessionId);
    if (record === null || !mayAccess(this.#access, record.token_sha256, caller.token)) {
      throw new SessionNotFoundError(sessionId);
    }
    return {
      sessionId,
      state: record.state,
      currentAttempt: record.current_attempt,
      maxAttempts: record.max_attempts,
      messages: record.conversation_history,
      updatedAt: record.updated_at,
    };
  }

  /** Loads the session's agent, or creates and saves a new one (no token checks: for code
   * that owns its sessions, as the original SessionManager). */
  async getOrCreateAgent(sessionId: string, options: AgentOptions = {}): Promise<RepairAgent> {
    return this.withSession(sessionId, async (agent) => agent, options, { saveExisting: false });
  }

  /**
   * Loads the session's agent (a new one if the session does not exist), runs `work` on it and
   * saves the result with compare-and-set, so a change can neither be left unsaved nor overwrite
   * a newer one. When another caller saved first, the whole of `work` runs again on their
   * version. With `mustExist`, a missing session is a SessionNotFoundError instead of a new one.
   * `work` must not call withSession for the same session (it would wait for itself). No token
   * checks: this is for code that owns its sessions; requests from clients go through runTurn.
   */
  withSession<T>(
    sessionId: string,
    work: (agent: RepairAgent) => Promise<T>,
    options: AgentOptions = {},
    flags: { saveExisting?: boolean; mustExist?: boolean } = {},
  ): Promise<T> {
    assertSessionId(sessionId);
    return this.#queue.run(sessionId, async () => {
      const { saveExisting = true, mustExist = false } = flags;
      for (let round = 1; ; round++) {
        const record = await this.#records.load(sessionId);
        if (record === null && mustExist) throw new SessionNotFoundError(sessionId);
        const agent = this.#agentFor(sessionId, record, options, undefined);
        const result = await work(agent);
        if (record !== null && !saveExisting) return result;
        try {
          await this.#save(sessionId, agent, this.#provenanceOf.get(agent));
          return result;
        } catch (error) {
          if (!(error instanceof SessionConflictError) || round >= MAX_TURN_ROUNDS) throw error;
          await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** round));
        }
      }
    });
  }

  /** The agent of a loaded record (or a new one), remembered with where it came from; `token`
   * is the one a new session will be saved with. */
  #agentFor(
    sessionId: string,
    record: SessionRecord | null,
    options: AgentOptions,
    token: string | undefined,
  ): RepairAgent {
    if (record === null) {
      const agent = new RepairAgent({
        responder: this.#responder,
        now: this.#now,
        maxAttempts: this.config.maxAttempts,
        useRag: options.useRag ?? true,
        useWebSearch: options.useWebSearch ?? true,
      });
      this.#provenanceOf.set(agent, {
        sessionId,
        version: 0,
        createdAt: '',
        resetAt: null,
        tokenSha256: token === undefined ? null : tokenSha256(token),
        topic: null,
        stamp: undefined,
      });
      return agent;
    }
    const agent = RepairAgent.restore(toSnapshot(record), {
      responder: this.#responder,
      now: this.#now,
    });
    if (options.useRag !== undefined) agent.useRag = options.useRag;
    if (options.useWebSearch !== undefined) agent.useWebSearch = options.useWebSearch;
    this.#provenanceOf.set(agent, this.#provenance(sessionId, record));
    if (token !== undefined) {
      const provenance = this.#provenanceOf.get(agent);
      if (provenance) provenance.tokenSha256 = tokenSha256(token);
    }
    return agent;
  }

  /** An agent holding `snapshot`, remembered as `agent` was (same version, same token). */
  #withSnapshot(agent: RepairAgent, snapshot: AgentSnapshot): RepairAgent {
    const restored = RepairAgent.restore(snapshot, { responder: this.#responder, now: this.#now });
    const provenance = this.#provenanceOf.get(agent);
    if (provenance) this.#provenanceOf.set(restored, provenance);
    return restored;
  }

  /** Loads the session's agent; null when it does not exist. An unreadable stored value is
   * quarantined (kept 7 days under `${prefix}corrupt:{${prefix}${id}}` on Redis) and the
   * session starts over. */
  async getAgent(sessionId: string): Promise<RepairAgent | null> {
    const record = await this.#records.load(sessionId);
    return record === null ? null : this.#agentFor(sessionId, record, {}, undefined);
  }

  /** The whole stored session and its TTL; null when it does not exist. */
  async getSession(sessionId: string): Promise<SessionDetails | null> {
    assertSessionId(sessionId);
    // Issued together: one round trip on Redis.
    const [record, ttl] = await Promise.all([
      this.#records.load(sessionId),
      this.#store.ttl(sessionId),
    ]);
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
    const stored = await this.#records.load(sessionId);
    return this.#save(sessionId, agent, stored ? this.#provenance(sessionId, stored) : undefined);
  }

  /** True when a session was deleted. */
  async deleteSession(sessionId: string): Promise<boolean> {
    assertSessionId(sessionId);
    const deleted = await this.#store.delete(sessionId);
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
    return this.#store.ttl(sessionId);
  }

  /**
   * Gives the session `ttlSeconds` to live from now (the operator's "extend"): the session is
   * written again with compare-and-set, so a turn saved meanwhile is never overwritten.
   * Throws SessionNotFoundError for an unknown session.
   */
  async setTtl(sessionId: string, ttlSeconds: number): Promise<number | null> {
    assertSessionId(sessionId);
    return this.#queue.run(sessionId, async () => {
      for (let round = 1; ; round++) {
        const record = await this.#records.load(sessionId);
        if (record === null) throw new SessionNotFoundError(sessionId);
        const { json } = this.#records.encode(sessionId, {
          ...record,
          version: record.version + 1,
        });
        try {
          const previous = {
            expected: record.version,
            createdAt: record.created_at,
            stamp: this.#records.stampOf(record),
          };
          await this.#records.write(sessionId, json, previous, ttlSeconds);
          return await this.#store.ttl(sessionId);
        } catch (error) {
          if (!(error instanceof SessionConflictError) || round >= MAX_TURN_ROUNDS) throw error;
          await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** round));
        }
      }
    });
  }

  /** Closes the store (after a last write-back on Redis), then what else was given to close. */
  async close(): Promise<void> {
    await this.#store.close();
    for (const resource of this.#alsoClose) await resource.close();
  }

  /** Compare-and-set on the version the agent was loaded at (0: a new session). */
  async #save(
    sessionId: string,
    agent: RepairAgent,
    previous: Provenance | undefined,
    changes: { reset?: boolean; topic?: string | null } = {},
  ): Promise<void> {
    const expected = previous?.version ?? 0;
    const snapshot = agent.snapshot();
    const now = isoTime(this.#now());
    const { json, record, stamp } = this.#records.encode(sessionId, {
      schema_version: SCHEMA_VERSION,
      version: expected + 1,
      state: snapshot.state,
      current_attempt: snapshot.currentAttempt,
      max_attempts: snapshot.maxAttempts,
      use_rag: snapshot.useRag,
      use_web_search: snapshot.useWebSearch,
      created_at: previous?.createdAt || now,
      updated_at: now,
      reset_at: changes.reset ? now : (previous?.resetAt ?? null),
      token_sha256: previous?.tokenSha256 ?? null,
      topic: changes.topic !== undefined ? changes.topic : (previous?.topic ?? null),
      problem: snapshot.problem,
      // snapshot() already returned a fresh array: no second copy on every save.
      conversation_history: snapshot.history as SessionRecord['conversation_history'],
    });
    await this.#records.write(sessionId, json, {
      expected,
      createdAt: previous?.createdAt || undefined,
      stamp: previous?.stamp,
    });
    this.#provenanceOf.set(agent, this.#provenance(sessionId, record, stamp));
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

  /** `stamp`: of the value the record was written as; by default, of the one it was loaded from. */
  #provenance(
    sessionId: string,
    record: SessionRecord,
    stamp = this.#records.stampOf(record),
  ): Provenance {
    return {
      sessionId,
      version: record.version,
      createdAt: record.created_at,
      resetAt: record.reset_at,
      tokenSha256: record.token_sha256,
      topic: record.topic,
      stamp,
    };
  }
}
