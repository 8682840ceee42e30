/**
 * Errors of the OpenAI-compatible endpoint in OpenAI's shape, `{"error": {message, type, param,
 * code}}`, with OpenAI's statuses: every error the API knows (src/api/errors.ts) keeps its status
 * and Portuguese sentence, except invalid input, which OpenAI answers with 400 (not 422).
 */
import type { FastifyError } from 'fastify';
import { SessionAccessDeniedError, SessionTooLargeError } from '../../sessions/errors.js';
import { errors } from '../../texts/api.js';
import { openaiErrors } from '../../texts/openai.js';
import { type HttpProblem, toHttpProblem } from '../errors.js';

/** Largest request body of /v1/chat/completions, in bytes: chat clients resend the whole
 * conversation with every message. */
export const OPENAI_BODY_LIMIT_BYTES = 1024 * 1024;

export interface OpenAiErrorBody {
  error: {
    /** What went wrong, for a person (pt-BR). */
    message: string;
    /** OpenAI's class of error: invalid_request_error, rate_limit_error, server_error... */
    type: string;
    /** The request field at fault, when there is one. */
    param: string | null;
    /** Machine-readable: invalid_api_key, model_not_found, invalid_value... */
    code: string | null;
  };
}

export interface OpenAiProblem {
  status: number;
  body: OpenAiErrorBody;
  headers?: Record<string, string>;
}

/** A refusal of this endpoint, with its status and OpenAI's code. */
export class OpenAiError extends Error {
  override name = 'OpenAiError';
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly status: number,
    message: string,
    options: { code: string; param?: string; headers?: Record<string, string> },
  ) {
    super(message);
    this.code = options.code;
    this.param = options.param ?? null;
    this.headers = options.headers;
  }
}

/** OpenAI's type and code for each status the API answers with. */
const KINDS: Record<number, { type: string; code: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'permission_error', code: 'permission_denied' },
  404: { type: 'invalid_request_error', code: 'not_found' },
  409: { type: 'conflict_error', code: 'conflict' },
  413: { type: 'invalid_request_error', code: 'request_too_large' },
  415: { type: 'invalid_request_error', code: 'unsupported_media_type' },
  429: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  502: { type: 'server_error', code: 'model_error' },
  503: { type: 'server_error', code: 'service_unavailable' },
  504: { type: 'server_error', code: 'timeout' },
};

function kindOf(status: number): { type: string; code: string } {
  return (
    KINDS[status] ??
    (status < 500
      ? { type: 'invalid_request_error', code: 'invalid_request' }
      : { type: 'server_error', code: 'internal_error' })
  );
}

export function openAiProblem(
  status: number,
  message: string,
  options: { type?: string; code?: string | null; param?: string | null } = {},
  headers?: Record<string, string>,
): OpenAiProblem {
  const kind = kindOf(status);
  return {
    status,
    body: {
      error: {
        message,
        type: options.type ?? kind.type,
        param: options.param ?? null,
        code: options.code === undefined ? kind.code : options.code,
      },
    },
    ...(headers && { headers }),
  };
}

/** The API's own answer, restated in OpenAI's shape. */
function restated(problem: HttpProblem): OpenAiProblem {
  const invalid = problem.status === 422;
  const field = problem.body.errors?.[0];
  return openAiProblem(
    invalid ? 400 : problem.status,
    problem.body.detail,
    invalid
      ? {
          code: field?.type ?? 'invalid_value',
          // The whole body (malformed JSON) is no parameter.
          param: field === undefined || field.field === 'body' ? null : field.field,
        }
      : {},
    problem.headers,
  );
}

/**
 * The answer for an error, or undefined when it is a server fault (500). `request` gives the
 * validated input, to tell a missing field from a wrong one.
 */
export function toOpenAiProblem(
  error: unknown,
  request?: { body?: unknown; params?: unknown; query?: unknown },
): OpenAiProblem | undefined {
  if (error instanceof OpenAiError) {
    return openAiProblem(
      error.status,
      error.message,
      { code: error.code, param: error.param },
      error.headers,
    );
  }
  // The chat API's sentences speak of its own remedies (X-Session-Token, a reset, its body
  // limit); a chat client's remedy is a new conversation.
  if (error instanceof SessionAccessDeniedError) {
    return openAiProblem(403, openaiErrors.sessionForbidden, { code: 'session_forbidden' });
  }
  if (error instanceof SessionTooLargeError) {
    return openAiProblem(413, openaiErrors.sessionTooLarge, { code: 'session_too_large' });
  }
  if ((error as Partial<FastifyError>).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return openAiProblem(413, openaiErrors.bodyTooLarge(OPENAI_BODY_LIMIT_BYTES / 1024));
  }
  const problem = toHttpProblem(error, request);
  return problem === undefined ? undefined : restated(problem);
}

/** The answer to a server fault. */
export const internalProblem = (): OpenAiProblem => openAiProblem(500, errors.internal);
