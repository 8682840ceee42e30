/**
 * Any failure of a command as the one line a person reads (in Portuguese) and its exit code:
 * 2 for usage errors (bad arguments, bad configuration, Redis unreachable), 1 for the rest. No
 * stack trace is ever printed; an unexpected error is reported by its message.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { NotARegularFileError } from '../files/file-kind.js';
import {
  InvalidSessionIdError,
  SessionConflictError,
  SessionCorruptError,
  SessionError,
  SessionNotFoundError,
  SessionTooLargeError,
  StoreFullError,
  StoreUnavailableError,
} from '../sessions/errors.js';
import type { ImportProblem } from '../sessions/transfer.js';
import { ERRORS, IMPORT_PROBLEMS, USAGE_ERRORS } from '../texts/cli.js';
import { CliError } from './cli-error.js';

export interface Failure {
  /** Undefined when it was already printed (commander's usage errors). */
  message: string | undefined;
  exitCode: number;
}

/** The reason an error carries without the wording around it: the store's words, what is
 * wrong with a value; the message of any other error. */
export const detailOf = (error: Error): string =>
  error instanceof SessionCorruptError ||
  error instanceof StoreFullError ||
  error instanceof StoreUnavailableError
    ? error.reason
    : error.message;

/** A session error in Portuguese; the technical reason it carries (a validation issue, the
 * store's words) is kept as it is. */
export function sessionErrorText(error: SessionError): string {
  if (error instanceof SessionNotFoundError) return ERRORS.sessionNotFound(error.sessionId);
  if (error instanceof SessionCorruptError)
    return ERRORS.sessionCorrupt(error.sessionId, error.reason);
  if (error instanceof SessionTooLargeError)
    return ERRORS.sessionTooLarge(error.sessionId, error.bytes, error.limit);
  if (error instanceof SessionConflictError) return ERRORS.sessionConflict(error.sessionId);
  if (error instanceof StoreUnavailableError)
    return ERRORS.storeUnavailable(error.backend, error.reason);
  if (error instanceof StoreFullError) return ERRORS.storeFull(error.reason);
  if (error instanceof InvalidSessionIdError) {
    return USAGE_ERRORS.invalidSessionIdShown(error.received);
  }
  return error.message;
}

/** Why an import line failed, in Portuguese. */
export function importProblemText(problem: ImportProblem): string {
  switch (problem.code) {
    case 'line_too_long':
      return IMPORT_PROBLEMS.lineTooLong(problem.bytes, problem.limit);
    case 'not_utf8':
      return IMPORT_PROBLEMS.notUtf8;
    case 'not_json':
      return IMPORT_PROBLEMS.notJson;
    case 'not_object':
      return IMPORT_PROBLEMS.notObject;
    case 'bad_session_id':
      return IMPORT_PROBLEMS.badSessionId;
    case 'bad_expires_at':
      return IMPORT_PROBLEMS.badExpiresAt;
    case 'bad_ttl':
      return IMPORT_PROBLEMS.badTtl;
    case 'error':
      return problem.error instanceof SessionError
        ? sessionErrorText(problem.error)
        : problem.error.message;
  }
}

const USAGE_SESSION_ERRORS = new Set(['ERR_INVALID_SESSION_ID', 'ERR_STORE_UNAVAILABLE']);

export function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError)
    return { message: undefined, exitCode: error.exitCode === 0 ? 0 : 2 };
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError)
    return { message: ERRORS.invalidConfiguration(error.problems), exitCode: 2 };
  if (error instanceof NotARegularFileError)
    return { message: ERRORS.notARegularFile(error.path, error.kind), exitCode: 2 };
  if (error instanceof SessionError) {
    return {
      message: sessionErrorText(error),
      exitCode: USAGE_SESSION_ERRORS.has(error.code) ? 2 : 1,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: ERRORS.unexpected(message), exitCode: 1 };
}

/** One line whatever it holds: line breaks and other control characters become spaces. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the target
  return text.replace(/\s*[\u0000-\u001f\u007f]+\s*/g, ' ').trim();
}
