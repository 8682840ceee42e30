/**
 * JSON over HTTP with fetch, for model and search servers: one deadline for the whole exchange
 * (connecting, waiting, reading every byte), a bound on the answer's size, and every failure
 * turned into an UpstreamError that says what happened. What the server wrote (its error
 * message, the start of a malformed answer) never goes into the error's message, which may reach
 * a user: it is kept apart, as `upstreamReason`, for logs, with keys and tokens hidden.
 */
import { redactUrl } from '../../redact.js';
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
  /** Values hidden in whatever the server's answer is kept for logs (an API key it echoes).
   * The credentials of `url` are always hidden. @default [] */
  secrets?: readonly string[];
  /** Aborting it cancels the exchange, which then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
/** Characters of a server's own error message kept in ours. */
const MAX_REASON_LENGTH = 200;

/** fetch refuses addresses with credentials: they become a Basic authorization header. */
export function withoutCredentials(url: string): {
  url: string;
  authorization?: string;
  secrets: string[];
} {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, secrets: [] };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const encoded = Buffer.from(`${user}:${password}`).toString('base64');
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.href,
    authorization: `Basic ${encoded}`,
    secrets: [password, encoded],
  };
}

/** A duration for messages: "0.3 s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Shorter secrets are not searched for: they would hide ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * `text` with these secrets, and anything shaped like a token (`Bearer ...`, `Basic ...`,
 * `sk-...`), replaced by `***`; control characters and runs of blanks become one space, and the
 * result is cut to a bounded length. For whatever a server wrote that is kept in logs.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let clean = text.replace(/[\p{Cc}\s]+/gu, ' ').trim();
  const known = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of known) clean = clean.split(secret).join('***');
  clean = clean
    .replace(/\b(Bearer|Basic)\s+[^\s"',;]+/gi, '$1 ***')
    .replace(/\bsk-[^\s"',;]+/g, 'sk-***');
  return clean.length > MAX_REASON_LENGTH ? `${clean.slice(0, MAX_REASON_LENGTH)}...` : clean;
}

/** The server's own words from an error body: `{"error": "..."}` (Ollama) or
 * `{"error": {"message": "..."}}` (OpenAI-compatible servers); unredacted. */
export function reasonOf(text: string): string {
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
    return reason ?? '';
  } catch {
    return '';
  }
}

/** The whole body as text; undefined when it is larger than `maxBytes`. */
export async function readText(
  response: Response,
  maxBytes: number,
  fail: (error: unknown) => never,
): Promise<string | undefined> {
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

/** A failure of fetch, or of reading an answer, that no deadline caused: the server could not
 * be reached, or the connection broke. */
export function connectionFailure(
  service: string,
  shownUrl: string,
  error: unknown,
  secrets: readonly string[],
): UpstreamError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const what = code === 'ECONNREFUSED' ? 'connection refused' : (code ?? 'network error');
  const said = typeof cause?.message === 'string' ? cause.message : String(error);
  return new UpstreamError('connection', service, `cannot reach the server (${what})`, {
    url: shownUrl,
    cause: error,
    upstreamReason: redactSecrets(said, secrets),
  });
}

/** The failure of a 2xx-less answer: its status, and the server's own words kept for logs. */
export function httpFailure(
  service: string,
  shownUrl: string,
  status: number,
  body: string,
  secrets: readonly string[],
): UpstreamError {
  const reason = redactSecrets(reasonOf(body), secrets);
  return new UpstreamError('http', service, `HTTP ${status}`, {
    status,
    url: shownUrl,
    upstreamReason: reason === '' ? undefined : reason,
  });
}

/** The headers of a request: JSON in, `accept` out, and the address's credentials. */
export function requestHeaders(
  accept: string,
  json: boolean,
  authorization: string | undefined,
  extra: Record<string, string> | undefined,
): Record<string, string> {
  return {
    accept,
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(authorization === undefined ? {} : { authorization }),
    ...extra,
  };
}

/** Sends the request and returns the parsed JSON answer of a 2xx response. */
export async function requestJson(url: string, options: RequestJsonOptions): Promise<unknown> {
  const { service, timeoutMs } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const shownUrl = redactUrl(url);
  const target = withoutCredentials(url);
  const secrets = [...(options.secrets ?? []), ...target.secrets];
  const deadline = AbortSignal.timeout(timeoutMs);
  const caller = options.signal;
  const fail: (error: unknown) => never = (error) => {
    if (caller?.aborted) throw caller.reason;
    if (deadline.aborted) {
      throw new UpstreamError(
        'timeout',
        service,
        `no complete answer within ${seconds(timeoutMs)}`,
        { url: shownUrl, cause: error },
      );
    }
    throw connectionFailure(service, shownUrl, error, secrets);
  };

  let response: Response;
  try {
    response = await fetch(target.url, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: requestHeaders(
        'application/json',
        options.body !== undefined,
        target.authorization,
        options.headers,
      ),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: caller === undefined ? deadline : AbortSignal.any([deadline, caller]),
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
  if (!response.ok) throw httpFailure(service, shownUrl, response.status, text, secrets);
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError('malformed', service, 'answered with malformed JSON', {
      url: shownUrl,
      upstreamReason: redactSecrets(`starts with ${JSON.stringify(text.slice(0, 80))}`, secrets),
    });
  }
}
