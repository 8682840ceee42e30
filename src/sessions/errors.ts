/**
 * Coded errors of the session system. Every error carries a stable `code`, a `name`, and the
 * original failure as `cause`, so callers (API, CLI) can map them without parsing messages.
 */

/** Shows an untrusted value in a message without echoing kilobytes of it. */
export function describeValue(value: unknown, max = 40): string {
  if (typeof value !== 'string') return `a value of type ${value === null ? 'null' : typeof value}`;
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length} characters)`;
}

export abstract class SessionError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidSessionIdError extends SessionError {
  readonly code = 'ERR_INVALID_SESSION_ID';

  /** The value refused, as a message may show it (quoted, shortened). */
  readonly received: string;

  constructor(received: unknown) {
    super(
      `Invalid session id ${describeValue(received)}: use 1-128 characters of letters, digits, '_' or '-'`,
    );
    this.received = describeValue(received);
  }
}

export class SessionNotFoundError extends SessionError {
  readonly code = 'ERR_SESSION_NOT_FOUND';

  constructor(readonly sessionId: string) {
    super(`Session "${sessionId}" not found`);
  }
}

/** The session exists and is held by someone else: the token presented is missing or wrong. */
export class SessionAccessDeniedError extends SessionError {
  readonly code = 'ERR_SESSION_ACCESS_DENIED';

  constructor(
    readonly sessionId: string,
    /** Whether a token was presented at all. */
    readonly tokenGiven: boolean,
  ) {
    super(
      `Session "${sessionId}" needs its session token (${tokenGiven ? 'the one given does not match' : 'none was given'})`,
    );
  }
}

export class SessionCorruptError extends SessionError {
  readonly code = 'ERR_SESSION_CORRUPT';

  constructor(
    readonly sessionId: string,
    /** What is wrong with the value. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`Session "${sessionId}" holds an unreadable value: ${reason}`, options);
  }
}

export class SessionTooLargeError extends SessionError {
  readonly code = 'ERR_SESSION_TOO_LARGE';

  constructor(
    readonly sessionId: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `Session "${sessionId}" is ${bytes} bytes once serialized, over the ${limit}-byte limit (SESSION_MAX_BYTES); nothing was written`,
    );
  }
}

export class SessionConflictError extends SessionError {
  readonly code = 'ERR_SESSION_CONFLICT';

  constructor(
    readonly sessionId: string,
    readonly expectedVersion: number,
    readonly storedVersion: number,
  ) {
    super(
      `Session "${sessionId}" changed meanwhile (version ${storedVersion} stored, ${expectedVersion} expected); nothing was written`,
    );
  }
}

/** Redis refused a write for lack of memory (maxmemory with noeviction). */
export class StoreFullError extends SessionError {
  readonly code = 'ERR_STORE_FULL';

  constructor(
    readonly operation: string,
    /** What the store said. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`The session store refused ${operation}: ${reason}`, options);
  }
}

export class StoreUnavailableError extends SessionError {
  readonly code = 'ERR_STORE_UNAVAILABLE';

  constructor(
    readonly backend: string,
    readonly operation: string,
    /** Why it failed (the store's words). */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`The ${backend} session store failed during ${operation}: ${reason}`, options);
  }
}
