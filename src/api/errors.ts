/**
 * Every error the API can answer with, mapped to an HTTP status and the `{detail}` body the
 * original clients expect, in one place. Nothing internal (stack, cause, store details) leaks.
 */
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UpstreamError } from '../agent/llm/errors.js';
import type { TurnResult } from '../agent/types.js';
import {
  InvalidSessionIdError,
  SessionConflictError,
  SessionNotFoundError,
  SessionTooLargeError,
  StoreFullError,
  StoreUnavailableError,
} from '../sessions/errors.js';

export type Detail = string | { error: string; details: Array<{ field: string; message: string }> };

export interface HttpProblem {
  status: number;
  detail: Detail;
  /** Response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/** Raised by the admin guard. */
export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';

  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

const NOT_SAVED = 'Nothing was saved for this message; send it again.';

/** What went wrong, in our words only: the provider, the HTTP status, the kind of failure. What
 * the model server wrote stays in the logs. */
function modelFailure(error: UpstreamError): string {
  const service = error.service;
  switch (error.failure) {
    case 'http':
      return `${service} answered HTTP ${error.status ?? 'error'}`;
    case 'connection':
      return `${service} could not be reached`;
    case 'malformed':
      return `${service} answered a malformed reply`;
    case 'empty':
      return `${service} answered with no text`;
    case 'too_large':
      return `${service}'s reply was too large`;
    default:
      return `${service} failed`;
  }
}

/**
 * A turn whose model-written reply made the session too large to store is the model's failure
 * (502), not something the user can fix by sending less: the UpstreamError to answer with, or
 * undefined for any other error.
 */
export function modelReplyTooLarge(
  error: unknown,
  turn: TurnResult | undefined,
): UpstreamError | undefined {
  const written = turn?.solved === true && turn.responder !== 'offline' && !turn.fallbackUsed;
  if (!(error instanceof SessionTooLargeError) || !written) return undefined;
  return new UpstreamError('too_large', turn.responder, error.message, { cause: error });
}

/** A model that failed: 504 past LLM_TIMEOUT, 503 while the circuit is open, else 502. */
function modelProblem(error: UpstreamError): HttpProblem {
  switch (error.failure) {
    case 'timeout':
      return {
        status: 504,
        detail: `The language model (${error.service}) did not answer in time (LLM_TIMEOUT). ${NOT_SAVED}`,
      };
    case 'circuit_open':
      return {
        status: 503,
        detail: `The language model is unavailable: ${error.message}. ${NOT_SAVED}`,
        headers: { 'retry-after': String(error.retryAfterSeconds ?? 1) },
      };
    default:
      return {
        status: 502,
        detail: `The language model failed: ${modelFailure(error)} (${error.failure}). ${NOT_SAVED}`,
      };
  }
}

function validation(field: string, message: string): HttpProblem {
  return { status: 400, detail: { error: 'validation_error', details: [{ field, message }] } };
}

/** `field` for a path such as "/message" in the body, "/session_id" in the params. */
function fieldOf(path: string, keys: unknown): string {
  if (Array.isArray(keys) && keys.length > 0) return keys.join(', ');
  return path.replace(/^\//, '').replaceAll('/', '.') || 'body';
}

/** The answer for an error, or undefined when it is a server fault (500). */
export function toHttpProblem(error: unknown): HttpProblem | undefined {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return {
      status: 400,
      detail: {
        error: 'validation_error',
        details: error.validation.map((issue) => ({
          field: fieldOf(issue.instancePath, (issue.params as { keys?: unknown })?.keys),
          message: issue.message ?? 'is invalid',
        })),
      },
    };
  }
  if (error instanceof InvalidSessionIdError) return validation('session_id', error.message);
  if (error instanceof SessionNotFoundError) return { status: 404, detail: error.message };
  if (error instanceof SessionTooLargeError) {
    return { status: 413, detail: `${error.message}. Reset the session to continue.` };
  }
  if (error instanceof SessionConflictError) {
    return { status: 409, detail: `Session "${error.sessionId}" is changing too fast; try again.` };
  }
  if (error instanceof StoreUnavailableError || error instanceof StoreFullError) {
    return { status: 503, detail: 'The session store is unavailable; try again shortly.' };
  }
  if (error instanceof AccessDeniedError) return { status: error.status, detail: error.message };
  if (error instanceof UpstreamError) return modelProblem(error);

  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'Request body is larger than 64 KiB.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: `Malformed JSON body: ${fastifyError.message}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: 'Send the body as application/json.' };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, detail: fastifyError.message ?? 'Bad request' };
  }
  return undefined;
}
