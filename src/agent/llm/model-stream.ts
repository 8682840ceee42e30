/** What every provider's streamed call shares: the deadlines, the cleaning and bounding of the
 * text as it arrives, and the checks at the end. Each provider only reads its own wire format. */

import { redactUrl } from '../../redact.js';
import { UpstreamError } from './errors.js';
import { redactSecrets } from './http.js';
import { openStream, StreamClock, type StreamedAnswer } from './http-stream.js';
import { callTimeout, type ModelReply, type StreamOptions } from './model.js';
import { ReplyTextStream } from './stream-text.js';

/** Text of the reply found in the answer, in order. */
export interface ReplyPiece {
  /** Raw text (reasoning blocks and blanks included); may be empty. */
  readonly text: string;
  /** Present on the piece that ends the reply: "stop", "length" (the token limit),
   * "content_filter"... */
  readonly finish?: string;
}

export interface StreamCall {
  /** "ollama" or "openai". */
  provider: string;
  url: string;
  /** The model's own timeout. */
  timeoutMs: number;
  body: unknown;
  headers?: Record<string, string>;
  secrets?: readonly string[];
  /** Reads the provider's wire format. Throws UpstreamError for an error the server reports
   * inside the answer, or for a line it cannot read. */
  pieces: (answer: StreamedAnswer) => AsyncIterable<ReplyPiece>;
}

export async function streamReply(call: StreamCall, options: StreamOptions): Promise<ModelReply> {
  const { provider } = call;
  const url = redactUrl(call.url);
  const clock = new StreamClock({
    service: provider,
    url,
    firstMs: callTimeout(call.timeoutMs, options),
    idleMs: options.idleTimeoutMs ?? call.timeoutMs,
    totalMs: options.maxDurationMs,
  });
  const text = new ReplyTextStream((piece) => {
    clock.started();
    options.onText(piece);
  }, options.maxChars);
  try {
    const answer = await openStream(call.url, {
      service: provider,
      body: call.body,
      headers: call.headers,
      secrets: call.secrets,
      clock,
      signal: options.signal,
    });
    let finish: string | undefined;
    for await (const piece of call.pieces(answer)) {
      text.push(piece.text);
      if (text.full) break;
      if (piece.finish !== undefined) {
        finish = piece.finish;
        break;
      }
    }
    if (!text.full && finish === undefined) {
      throw new UpstreamError('connection', provider, 'the reply ended before it was complete', {
        url,
      });
    }
    const whole = text.end();
    if (whole === '') {
      const why = finish === 'content_filter' ? ' (withheld by the content filter)' : '';
      throw new UpstreamError('empty', provider, `the model answered with no text${why}`, { url });
    }
    return {
      text: whole,
      truncated: finish === 'length',
      ...(text.full ? { received: text.received } : {}),
    };
  } catch (error) {
    // A call aborted by its caller reports why, whatever broke in it as a consequence.
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    clock.stop();
  }
}

/** The JSON of one line of an answer; a line that is not JSON is a malformed answer. */
export function parseLine(line: string, provider: string, secrets: readonly string[]): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new UpstreamError('malformed', provider, 'streamed a line that is not JSON', {
      upstreamReason: redactSecrets(`starts with ${JSON.stringify(line.slice(0, 80))}`, secrets),
    });
  }
}

/** An error a server reported inside a streamed answer (Ollama's `{"error": "..."}`, an
 * OpenAI-compatible server's `{"error": {"message": "...", "code": 500}}`): an HTTP failure in
 * all but name, with the status when the server gave one. */
export function reportedError(
  provider: string,
  error: unknown,
  url: string,
  secrets: readonly string[],
): UpstreamError {
  const detail = error as { message?: unknown; code?: unknown } | string | null | undefined;
  const said =
    typeof detail === 'string'
      ? detail
      : typeof detail?.message === 'string'
        ? detail.message
        : JSON.stringify(error ?? null);
  const code = typeof detail === 'object' && detail !== null ? Number(detail.code) : Number.NaN;
  const status = Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined;
  return new UpstreamError('http', provider, 'reported an error in the streamed reply', {
    status,
    url,
    upstreamReason: redactSecrets(said, secrets),
  });
}
