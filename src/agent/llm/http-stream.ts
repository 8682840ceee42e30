/**
 * A streamed answer over HTTP with fetch (NDJSON or server-sent events): the status checked as
 * `requestJson` checks it, then the body read a line at a time as it arrives, under a clock of
 * three deadlines, and every failure turned into an UpstreamError that says what happened.
 */
import { redactUrl } from '../../redact.js';
import { UpstreamError } from './errors.js';
import {
  connectionFailure,
  DEFAULT_MAX_BYTES,
  httpFailure,
  readText,
  requestHeaders,
  seconds,
  withoutCredentials,
} from './http.js';

export interface StreamDeadlines {
  /** Service named in the failures, e.g. "ollama". */
  service: string;
  /** Address called, credentials hidden, for the failures. */
  url: string;
  /** Until the first piece of the reply's text (`started()`), counted from the start. */
  firstMs: number;
  /** After the first piece: the longest the server may stay silent (no bytes at all). */
  idleMs: number;
  /** After the first piece: the whole call, counted from the start. @default no limit */
  totalMs?: number;
}

/**
 * The deadlines of a streamed call: one for the first piece of text (the wait a whole reply
 * would have), then, once text flows, one for each silence and one for the whole call. When one
 * passes, `signal` aborts and `expired` says which.
 */
export class StreamClock {
  readonly #controller = new AbortController();
  readonly #deadlines: StreamDeadlines;
  readonly #startedAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #expired: UpstreamError | undefined;
  #flowing = false;

  constructor(deadlines: StreamDeadlines) {
    this.#deadlines = deadlines;
    this.#arm(deadlines.firstMs, `no reply within ${seconds(deadlines.firstMs)}`);
  }

  /** Aborts when a deadline passes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timeout, once a deadline passed. */
  get expired(): UpstreamError | undefined {
    return this.#expired;
  }

  /** The first piece of text was passed on: from now on, the silence and total deadlines. */
  started(): void {
    if (this.#flowing) return;
    this.#flowing = true;
    this.#rearm();
  }

  /** Bytes arrived. */
  tick(): void {
    if (this.#flowing) this.#rearm();
  }

  /** The call is over: no deadline any more. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #rearm(): void {
    const { idleMs, totalMs } = this.#deadlines;
    const totalLeft =
      totalMs === undefined
        ? Number.POSITIVE_INFINITY
        : totalMs - (performance.now() - this.#startedAt);
    if (totalLeft <= idleMs && totalMs !== undefined) {
      this.#arm(totalLeft, `the reply was not complete within ${seconds(totalMs)}`);
    } else {
      this.#arm(idleMs, `the reply stopped for ${seconds(idleMs)}`);
    }
  }

  #arm(ms: number, message: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        const { service, url } = this.#deadlines;
        this.#expired = new UpstreamError('timeout', service, message, { url });
        this.#controller.abort(this.#expired);
      },
      Math.max(0, ms),
    );
  }
}

export interface StreamRequestOptions {
  /** Name used in error messages: "ollama", "openai". */
  service: string;
  /** Sent as JSON with POST. */
  body: unknown;
  headers?: Record<string, string>;
  /** Values hidden in whatever the server's answer is kept for logs. @default [] */
  secrets?: readonly string[];
  /** A larger answer (all its bytes) is refused. @default 4 MiB */
  maxBytes?: number;
  clock: StreamClock;
  /** Aborting it cancels the call, which then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A 2xx answer being read. */
export interface StreamedAnswer {
  /** Its media type, e.g. "application/x-ndjson", "text/event-stream", "application/json". */
  readonly contentType: string;
  /** Its lines as they arrive, without their line ends. Leaving the loop early closes the
   * connection. */
  lines(): AsyncGenerator<string, void, undefined>;
}

/** Sends the request; resolves once a 2xx answer's headers arrived, with its body to read. */
export async function openStream(
  url: string,
  options: StreamRequestOptions,
): Promise<StreamedAnswer> {
  const { service, clock, signal: caller } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const shownUrl = redactUrl(url);
  const target = withoutCredentials(url);
  const secrets = [...(options.secrets ?? []), ...target.secrets];
  const fail = (error: unknown): never => {
    if (caller?.aborted) throw caller.reason;
    if (clock.expired) throw clock.expired;
    if (error instanceof UpstreamError) throw error;
    throw connectionFailure(service, shownUrl, error, secrets);
  };

  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: requestHeaders(
        'application/x-ndjson, text/event-stream, application/json',
        true,
        target.authorization,
        options.headers,
      ),
      body: JSON.stringify(options.body),
      signal: caller === undefined ? clock.signal : AbortSignal.any([clock.signal, caller]),
    });
  } catch (error) {
    return fail(error);
  }
  if (!response.ok) {
    const text = await readText(response, maxBytes, fail);
    throw httpFailure(service, shownUrl, response.status, text ?? '', secrets);
  }
  const body = response.body;

  async function* lines(): AsyncGenerator<string, void, undefined> {
    const reader = body?.getReader();
    if (reader === undefined) return;
    const decoder = new TextDecoder();
    let size = 0;
    let pending = '';
    let finished = false;
    try {
      for (;;) {
        const chunk = await reader.read().catch(fail);
        if (chunk.done) break;
        clock.tick();
        size += chunk.value.byteLength;
        if (size > maxBytes) {
          throw new UpstreamError('too_large', service, `answer larger than ${maxBytes} bytes`, {
            url: shownUrl,
          });
        }
        pending += decoder.decode(chunk.value, { stream: true });
        for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
          const line = pending.slice(0, end);
          pending = pending.slice(end + 1);
          yield line.endsWith('\r') ? line.slice(0, -1) : line;
        }
      }
      finished = true;
      pending += decoder.decode();
      if (pending !== '') yield pending;
    } finally {
      // Left early (the reply was long enough, or failed): close the connection.
      if (!finished) await reader.cancel().catch(() => {});
    }
  }

  return { contentType: response.headers.get('content-type') ?? '', lines };
}

/** One event of a server-sent event stream. */
export interface ServerSentEvent {
  /** "message" unless the server named it. */
  readonly event: string;
  /** Its `data:` lines, joined with line breaks. */
  readonly data: string;
}

/** The events of a `text/event-stream` answer, from its lines (comments left out). */
export async function* serverSentEvents(
  lines: AsyncIterable<string>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  let event = 'message';
  let data: string[] = [];
  for await (const line of lines) {
    if (line === '') {
      if (data.length > 0) yield { event, data: data.join('\n') };
      event = 'message';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const raw = colon === -1 ? '' : line.slice(colon + 1);
    const value = raw.startsWith(' ') ? raw.slice(1) : raw;
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}
