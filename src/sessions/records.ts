/**
 * Stored sessions in and out of a store: a load decodes and validates the value, and moves an
 * unreadable one aside (logging what really happened); a write is a compare-and-set on the
 * version it continues, so a stale write never overwrites a newer one.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SessionCipher } from './cipher.js';
import { decodeSession, encodeSession, type SessionRecord, writeStamp } from './codec.js';
import { SessionConflictError, SessionCorruptError } from './errors.js';
import { assertSessionId } from './session-id.js';
import type { SessionStore } from './types.js';

export interface SessionRecordsOptions {
  store: SessionStore;
  /** sessionTtl, keyPrefix, maxHistoryMessages, sessionMaxBytes. */
  config: Config;
  cipher: SessionCipher | undefined;
  logger: Logger;
  /** Told 'conflict' when a write met a newer version, 'corrupt' when a value was moved aside. */
  emit: (event: 'conflict' | 'corrupt', payload: { sessionId: string }) => void;
}

export class SessionRecords {
  readonly #store: SessionStore;
  readonly #config: Config;
  readonly #cipher: SessionCipher | undefined;
  readonly #logger: Logger;
  readonly #emit: SessionRecordsOptions['emit'];
  /** The write stamp (codec writeStamp) of the value each loaded record was read from. */
  readonly #stamps = new WeakMap<SessionRecord, string>();

  constructor(options: SessionRecordsOptions) {
    this.#store = options.store;
    this.#config = options.config;
    this.#cipher = options.cipher;
    this.#logger = options.logger;
    this.#emit = options.emit;
  }

  /** The stored record, or null; an unreadable value is quarantined and reads as null. */
  async load(sessionId: string): Promise<SessionRecord | null> {
    assertSessionId(sessionId);
    let raw: string | null = null;
    try {
      raw = await this.#store.get(sessionId);
      if (raw === null) return null;
      const record = decodeSession(sessionId, raw, this.#cipher);
      const stamp = writeStamp(raw);
      if (stamp !== undefined) this.#stamps.set(record, stamp);
      return record;
    } catch (error) {
      if (!(error instanceof SessionCorruptError)) throw error;
      // Moves exactly what was read (or, when the store refused to read it, a value it would
      // refuse again), and logs what really happened: one line per unreadable value met.
      const quarantine = await this.#store.quarantine(sessionId, raw ?? undefined);
      this.#logger.error(
        {
          session_id: sessionId,
          event_type: 'session_corrupt',
          reason: error.message,
          quarantine: quarantine.outcome,
          quarantined_as: quarantine.outcome === 'moved' ? quarantine.movedTo : undefined,
        },
        quarantine.outcome === 'moved'
          ? 'Sessão ilegível: guardada para inspeção, uma nova sessão começa'
          : quarantine.outcome === 'gone'
            ? 'Sessão ilegível: não foi movida, já não estava lá (expirou, foi apagada ou guardada por outra requisição)'
            : 'Sessão ilegível: não foi movida, outra requisição já gravou uma sessão no lugar',
      );
      if (quarantine.outcome === 'moved') this.#emit('corrupt', { sessionId });
      return null;
    }
  }

  /** The write stamp of the value `record` was loaded from (undefined: not known). */
  stampOf(record: SessionRecord): string | undefined {
    return this.#stamps.get(record);
  }

  /** Serializes a record within the configured limits (SessionTooLargeError past them). */
  encode(sessionId: string, record: SessionRecord) {
    return encodeSession(sessionId, record, {
      maxHistoryMessages: this.#config.maxHistoryMessages,
      maxBytes: this.#config.sessionMaxBytes,
      cipher: this.#cipher,
    });
  }

  /**
   * Writes `json` over version `expected` of the session (0: none yet) created at `createdAt`
   * (a session deleted and created again is another one), with the configured TTL; `stamp`, the
   * write stamp of that version as it was read, lets the store decide from it alone. Throws
   * SessionConflictError when the store holds another version.
   */
  async write(
    sessionId: string,
    json: string,
    previous: { expected: number; createdAt: string | undefined; stamp: string | undefined },
    ttlSeconds = this.#config.sessionTtl,
  ): Promise<void> {
    const { expected, createdAt, stamp } = previous;
    const write = await this.#store.setIf(sessionId, json, ttlSeconds, {
      min: expected,
      max: expected,
      createdAt,
      stamp,
    });
    if (write.outcome !== 'conflict') return;
    this.#logger.info(
      {
        session_id: sessionId,
        expected_version: expected,
        stored_version: write.storedVersion,
        event_type: 'session_conflict',
      },
      'Sessão alterada por outra requisição: nada foi sobrescrito',
    );
    this.#emit('conflict', { sessionId });
    throw new SessionConflictError(sessionId, expected, write.storedVersion);
  }
}
