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
  /** Characters of the reply already passed on when a streamed reply failed. @default 0 */
  sentChars?: number;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly code = 'ERR_UPSTREAM';
  override name = 'UpstreamError';
  readonly status: number | undefined;
  readonly url: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamReason: string | undefined;
  /**
   * Characters of the reply already passed on (to `onDelta`) when a streamed reply failed; 0 for
   * a failure before the first piece, or of a whole reply. Above 0, the failure came after the
   * first piece: no fallback answered instead and the turn must not be run again (what was sent
   * cannot be taken back); whoever streams the reply ends its stream with an error.
   */
  readonly sentChars: number;

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
    this.sentChars = details.sentChars ?? 0;
  }

  /** True when the failure came after the first piece of a streamed reply was passed on. */
  get afterFirstDelta(): boolean {
    return this.sentChars > 0;
  }

  /** The same failure, saying that `sentChars` characters of the reply had been passed on. */
  withSentChars(sentChars: number): UpstreamError {
    const copy = new UpstreamError(this.failure, this.service, '', {
      status: this.status,
      url: this.url,
      retryAfterSeconds: this.retryAfterSeconds,
      upstreamReason: this.upstreamReason,
      sentChars,
      cause: this.cause,
    });
    copy.message = this.message;
    copy.stack = this.stack;
    return copy;
  }
}
