/**
 * JSON over HTTP with fetch, for model and search servers: one deadline for the whole exchange
 * (connecting, waiting, reading every byte), a bound on the answer's size, and every failure
 * turned into an UpstreamError that says what happened.
 */
import { UpstreamError } from './errors.js';

export interface RequestJsonOptions {
  /** Name used in error messages: "ollama", "openai", "searxng". */
  service: string;
  /** Sent as JSON with POST; without it, a GET. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The whole exchange, reading the last byte included, must end within this. */
  timeoutMs: number;
  /** A larger answer is refused. @default 4 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
/** Characters of a server's own error message kept in ours. */
const MAX_REASON_LENGTH = 200;

/** An address without its credentials or query, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = '***';
      parsed.password = '';
    }
    parsed.search = '';
    return parsed.href;
  } catch {
    return '(invalid URL)';
  }
}

/** fetch refuses addresses with credentials: they become a Basic authorization header. */
function withoutCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.href,
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
  };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The server's own words from an error body: `{"error": "..."}` (Ollama) or
 * `{"error": {"message": "..."}}` (OpenAI-compatible servers). */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    const reason =
      typeof error === 'string'
        ? error
        : typeof error?.message === 'string'
          ? error.message
          : typeof body.detail === 'string'
            ? body.detail
            : undefined;
    if (reason === undefined) return '';
    const clean = reason.replace(/[\p{Cc}\s]+/gu, ' ').trim();
    return clean.length > MAX_REASON_LENGTH ? `${clean.slice(0, MAX_REASON_LENGTH)}...` : clean;
  } catch {
    return '';
  }
}

async function readText(response: Response, maxBytes: number, fail: (e: unknown) => never) {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch (error) {
    fail(error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends the request and returns the parsed JSON answer of a 2xx response. */
export async function requestJson(url: string, options: RequestJsonOptions): Promise<unknown> {
  const { service, timeoutMs } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const shownUrl = redactUrl(url);
  const signal = AbortSignal.timeout(timeoutMs);
  const fail: (error: unknown) => never = (error) => {
    if (signal.aborted) {
      throw new UpstreamError(
        'timeout',
        service,
        `no complete answer within ${seconds(timeoutMs)}`,
        {
          url: shownUrl,
          cause: error,
        },
      );
    }
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    const what =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : (code ?? (typeof cause?.message === 'string' ? cause.message : String(error)));
    throw new UpstreamError('connection', service, `cannot reach the server (${what})`, {
      url: shownUrl,
      cause: error,
    });
  };

  let response: Response;
  try {
    const target = withoutCredentials(url);
    response = await fetch(target.url, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(target.authorization === undefined ? {} : { authorization: target.authorization }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal,
    });
  } catch (error) {
    fail(error);
  }
  const text = await readText(response, maxBytes, fail);
  if (text === undefined) {
    throw new UpstreamError('too_large', service, `answer larger than ${maxBytes} bytes`, {
      url: shownUrl,
    });
  }
  if (!response.ok) {
    const reason = reasonOf(text);
    throw new UpstreamError('http', service, `HTTP ${response.status}${reason && `: ${reason}`}`, {
      status: response.status,
      url: shownUrl,
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    const start = JSON.stringify(text.slice(0, 40));
    throw new UpstreamError('malformed', service, `answered with malformed JSON (${start}...)`, {
      url: shownUrl,
    });
  }
}
