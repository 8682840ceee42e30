/**
 * What went wrong with a call to the API, and the Portuguese sentence a person reads about it.
 * Pure: no DOM, so node's test runner imports it as it is.
 */
import { errors } from '../../../src/texts/web.js';

/** A call that failed: no answer at all (the network), or an HTTP error status. */
export type ApiFailure =
  | { kind: 'network' /** The answer started and was cut before its end. */; midStream: boolean }
  | { kind: 'http'; status: number; detail: string | undefined; retryAfterSeconds?: number };

/** An error as the page shows it. */
export interface ErrorView {
  message: string;
  /** Seconds to wait before trying again (from Retry-After). */
  retryAfterSeconds?: number;
  /** Sending the same message again may work. */
  retryable: boolean;
  /** The session is unknown, expired or not ours: the conversation starts over. */
  sessionLost: boolean;
}

/** Longest `detail` shown; a longer one is not a sentence meant for a person. */
const MAX_DETAIL_LENGTH = 600;

/** The `detail` of an error body, when it is a readable sentence. */
export function detailOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const detail = (parsed as { detail?: unknown } | null)?.detail;
    if (typeof detail !== 'string') return undefined;
    const text = detail.trim();
    return text === '' || text.length > MAX_DETAIL_LENGTH ? undefined : text;
  } catch {
    return undefined;
  }
}

/** Retry-After as whole seconds: a number of seconds or an HTTP date (RFC 9110). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** The failure an HTTP error answer stands for. */
export function httpFailure(
  status: number,
  body: string,
  retryAfter: string | null = null,
  now = Date.now(),
): ApiFailure {
  const retryAfterSeconds = parseRetryAfter(retryAfter, now);
  return {
    kind: 'http',
    status,
    detail: detailOf(body),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

/**
 * The sentence and the way out for a failed chat call. On the chat's routes 403 and 404 are about
 * the session itself (a refused token, an unknown or expired session): it starts over.
 */
export function describeFailure(failure: ApiFailure): ErrorView {
  if (failure.kind === 'network') {
    return {
      message: failure.midStream ? errors.streamCut : errors.network,
      retryable: true,
      sessionLost: false,
    };
  }
  const { status, detail, retryAfterSeconds } = failure;
  const view = (message: string, retryable: boolean): ErrorView => ({
    message,
    retryable,
    sessionLost: false,
  });
  switch (status) {
    case 403:
      return { message: errors.sessionRefused, retryable: true, sessionLost: true };
    case 404:
      return { message: errors.sessionGone, retryable: true, sessionLost: true };
    case 409:
      return view(detail ?? errors.conflict, true);
    case 413:
      return view(detail ?? errors.tooLarge, false);
    case 422:
      return view(detail ?? errors.invalid, false);
    case 429:
      return {
        ...view(detail ?? errors.rateLimited(retryAfterSeconds), true),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      };
    case 502:
      return view(detail ?? errors.badGateway, true);
    case 503:
      return {
        ...view(detail ?? errors.unavailable, true),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      };
    case 504:
      return view(detail ?? errors.timeout, true);
    default:
      return status >= 500
        ? view(detail ?? errors.server(status), true)
        : view(detail ?? errors.unexpected(status), false);
  }
}
