/** The one error a model server or a search server fails with, saying which way it failed. */

/**
 * - `timeout`: no complete answer within the deadline (a stream that never ends included);
 * - `connection`: the server could not be reached (refused, unknown host, reset);
 * - `http`: the server answered with an HTTP error status;
 * - `malformed`: the answer was not the JSON expected;
 * - `empty`: the model answered with no text;
 * - `too_large`: the answer was larger than the limit;
 * - `circuit_open`: too many failures in a row, so the call was not even tried.
 */
export type UpstreamFailure =
  | 'timeout'
  | 'connection'
  | 'http'
  | 'malformed'
  | 'empty'
  | 'too_large'
  | 'circuit_open';

export interface UpstreamErrorDetails {
  /** HTTP status, for `http`. */
  status?: number;
  /** Address called, credentials hidden: for logs, never for API clients. */
  url?: string;
  /** Seconds until the next try, for `circuit_open`. */
  retryAfterSeconds?: number;
  /** What the server itself said (its error message, the start of a malformed answer), with
   * keys and tokens already hidden: for logs, never for API clients. */
  upstreamReason?: string;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly code = 'ERR_UPSTREAM';
  override name = 'UpstreamError';
  readonly status: number | undefined;
  readonly url: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamReason: string | undefined;

  /** `message` names the problem in our own words, without addresses, secrets or anything the
   * server wrote: it may reach a user. */
  constructor(
    readonly failure: UpstreamFailure,
    /** The service that failed: "ollama", "openai", "searxng". */
    readonly service: string,
    message: string,
    details: UpstreamErrorDetails = {},
  ) {
    super(`${service}: ${message}`, { cause: details.cause });
    this.status = details.status;
    this.url = details.url;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.upstreamReason = details.upstreamReason;
  }
}
