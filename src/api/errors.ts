/**
 * Every error the API can answer with, mapped to an HTTP status and the body the original clients
 * expect, in one place: `{detail}` with a Portuguese sentence, and for invalid input (422) also
 * the original's `error` and `errors` list. Nothing internal (stack, cause, store details) leaks.
 */
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UpstreamError } from '../agent/llm/errors.js';
import type { TurnResult } from '../agent/types.js';
import {
  InvalidSessionIdError,
  SessionAccessDeniedError,
  SessionConflictError,
  SessionNotFoundError,
  SessionTooLargeError,
  StoreFullError,
  StoreUnavailableError,
} from '../sessions/errors.js';
import { errors, INVALID_DATA, model, validation } from '../texts/api.js';
import { EmptyJsonBodyError, ForbiddenKeyError, MalformedJsonError } from './json-body.js';

/** One invalid field, as the original API listed them: `type` is machine-readable. */
export interface FieldError {
  field: string;
  message: string;
  type: string;
}

export interface ErrorBody {
  /** What went wrong, in a sentence a person can act on. */
  detail: string;
  /** "Dados inválidos", on validation errors only. */
  error?: string;
  errors?: FieldError[];
}

export interface HttpProblem {
  status: number;
  body: ErrorBody;
  /** Response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/** Raised by the access guards, with the sentence to answer. */
export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';

  constructor(
    readonly status: 401 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** Raised by the rate limit, with the seconds until the client may send again. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  readonly statusCode = 429;

  constructor(
    readonly max: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`rate limit of ${max} per minute reached`);
  }
}

/** Largest request body, in bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const problem = (status: number, detail: string, headers?: Record<string, string>) => ({
  status,
  body: { detail },
  ...(headers && { headers }),
});

/** The invalid fields -> 422 with the original's body; `detail` joins the first sentences. */
export function invalidInput(fields: FieldError[]): HttpProblem {
  const detail = fields
    .slice(0, 3)
    .map((f) => f.message)
    .join(' ');
  return { status: 422, body: { error: INVALID_DATA, detail, errors: fields } };
}

/** What went wrong, in our words only: what the model server wrote stays in the logs. */
function modelFailure(error: UpstreamError): string {
  const service = error.service;
  switch (error.failure) {
    case 'http':
      return model.http(service, error.status ?? 'erro');
    case 'connection':
      return model.unreachable(service);
    case 'malformed':
      return model.malformed(service);
    case 'empty':
      return model.empty(service);
    case 'too_large':
      return model.tooLarge(service);
    default:
      return model.other(service);
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
      return problem(504, `${model.timeout(error.service)} ${model.notSaved}`);
    case 'circuit_open': {
      const seconds = error.retryAfterSeconds ?? 1;
      return problem(503, `${model.unavailable(error.service, seconds)} ${model.notSaved}`, {
        'retry-after': String(seconds),
      });
    }
    default:
      return problem(502, `${model.failed(modelFailure(error))} ${model.notSaved}`);
  }
}

interface ZodIssueParams {
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  expected?: string;
  format?: string;
  keys?: string[];
}

/** The original API's machine-readable `type` for a rule. */
function issueType(code: string, params: ZodIssueParams, missing: boolean): string {
  const text = params.origin === 'string';
  switch (code) {
    case 'too_big':
      return text ? 'string_too_long' : 'less_than_equal';
    case 'too_small':
      return text ? 'string_too_short' : 'greater_than_equal';
    case 'invalid_type':
      if (missing) return 'missing';
      return `${params.expected === 'boolean' ? 'bool' : (params.expected ?? 'value')}_type`;
    case 'invalid_format':
      return 'string_pattern_mismatch';
    case 'unrecognized_keys':
      return 'extra_forbidden';
    case 'custom':
      return 'value_error';
    default:
      return code;
  }
}

/** A Portuguese sentence for one broken rule. Refinements carry their own (from texts/api). */
function issueSentence(
  field: string,
  code: string,
  params: ZodIssueParams,
  message: string,
  missing: boolean,
): string {
  const text = params.origin === 'string';
  switch (code) {
    case 'too_big':
      return text
        ? validation.tooLong(field, Number(params.maximum))
        : validation.tooBig(field, Number(params.maximum));
    case 'too_small':
      if (text && Number(params.minimum) === 1) return validation.blank(field);
      return text
        ? validation.tooShort(field, Number(params.minimum))
        : validation.tooSmall(field, Number(params.minimum));
    case 'invalid_type':
      return missing ? validation.required(field) : validation.wrongType(field, params.expected);
    case 'invalid_format':
      return field === 'session_id' ? validation.sessionIdPattern : validation.invalid(field);
    case 'invalid_value':
      return validation.notAllowed(field);
    case 'custom':
      return message;
    default:
      return validation.invalid(field);
  }
}

interface SchemaIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: unknown;
}

/** The fields a schema refused, in the original's shape. `input` is the part of the request
 * validated (body, params or querystring), to tell a missing field from a wrong one. */
function schemaFields(issues: readonly SchemaIssue[], input: unknown): FieldError[] {
  return issues.flatMap((issue) => {
    const params = (issue.params ?? {}) as ZodIssueParams;
    if (issue.keyword === 'unrecognized_keys') {
      return (params.keys ?? []).map((key) => ({
        field: key,
        message: validation.unknownField(key),
        type: 'extra_forbidden',
      }));
    }
    const path = issue.instancePath.replace(/^\//, '').split('/').filter(Boolean);
    const field = path.join('.') || 'body';
    let value: unknown = input;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    const missing = issue.keyword === 'invalid_type' && value === undefined;
    return [
      {
        field,
        message: issueSentence(field, issue.keyword, params, issue.message ?? '', missing),
        type: issueType(issue.keyword, params, missing),
      },
    ];
  });
}

/**
 * The answer for an error, or undefined when it is a server fault (500). `request` gives the
 * validated input, to tell a missing field from a wrong one.
 */
export function toHttpProblem(
  error: unknown,
  request?: { body?: unknown; params?: unknown; query?: unknown },
): HttpProblem | undefined {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = (error as { validationContext?: string }).validationContext;
    const input =
      part === 'params' ? request?.params : part === 'querystring' ? request?.query : request?.body;
    return invalidInput(schemaFields(error.validation, input));
  }
  if (error instanceof InvalidSessionIdError) {
    return invalidInput([
      {
        field: 'session_id',
        message: validation.sessionIdPattern,
        type: 'string_pattern_mismatch',
      },
    ]);
  }
  if (error instanceof SessionAccessDeniedError) {
    return problem(403, errors.sessionTokenRequired(error.sessionId));
  }
  if (error instanceof SessionNotFoundError) {
    return problem(404, errors.sessionNotFound(error.sessionId));
  }
  if (error instanceof SessionTooLargeError) return problem(413, errors.sessionTooLarge);
  if (error instanceof SessionConflictError) return problem(409, errors.sessionConflict);
  if (error instanceof StoreUnavailableError || error instanceof StoreFullError) {
    return problem(503, errors.storeUnavailable);
  }
  if (error instanceof AccessDeniedError) return problem(error.status, error.message);
  if (error instanceof RateLimitedError) {
    return problem(429, errors.rateLimited(error.max, error.retryAfterSeconds), {
      'retry-after': String(error.retryAfterSeconds),
    });
  }
  if (error instanceof UpstreamError) return modelProblem(error);
  if (error instanceof MalformedJsonError) {
    const message = validation.malformedJson(error.position);
    return invalidInput([{ field: 'body', message, type: 'json_invalid' }]);
  }
  if (error instanceof ForbiddenKeyError) {
    const message = validation.forbiddenKey(error.key);
    return invalidInput([{ field: error.key, message, type: 'forbidden_key' }]);
  }

  const fastifyError = error as Partial<FastifyError>;
  switch (error instanceof EmptyJsonBodyError ? error.name : fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, errors.bodyTooLarge(BODY_LIMIT_BYTES / 1024));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'EmptyJsonBodyError':
      return invalidInput([{ field: 'body', message: validation.emptyBody, type: 'json_invalid' }]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, errors.unsupportedMediaType);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return problem(status, errors.badRequest);
  }
  return undefined;
}
