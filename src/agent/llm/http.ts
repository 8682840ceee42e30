/**
 * JSON over HTTP with fetch, for model and search servers: one deadline for the whole exchange
 * (connecting, waiting, reading every byte), a bound on the answer's size, and every failure
 * turned into an UpstreamError that says what happened. What the server wrote (its error
 * message, the start of a malformed answer) never goes into the error's message, which may reach
 * a user: it is kept apart, as `upstreamReason`, for logs, with keys and tokens hidden.
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
  /** Values hidden in whatever the server's answer is kept for logs (an API key it echoes).
   * The credentials of `url` are always hidden. @default [] */
  secrets?: readonly string[];
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
/** Characters of a server's own error message kept in ours. */
const MAX_REASON_LENGTH = 200;

/** An address without its credentials, query or fragment, for logs and messages. A value that
 * is not a plain http(s) URL keeps only what follows its last "@", up to any "?" or "#". */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const web = parsed.protocol === 'http:' || parsed.protocol === 'https:';
    // An "@" after the host: a password with "#" or "?" in it, parsed as a fragment or query.
    const rest = parsed.pathname + parsed.search + parsed.hash;
    if (web && parsed.hostname !== '' && !rest.includes('@')) {
      if (parsed.username !== '' || parsed.password !== '') {
        parsed.username = '***';
        parsed.password = '';
      }
      parsed.search = '';
      parsed.hash = '';
      return parsed.href;
    }
  } catch {
    // Not a URL: the blunt rule below.
  }
  // Everything before the last "@" may hold credentials, "?" and "#" included.
  const at = url.lastIndexOf('@');
  const address = at === -1 ? url : `***${url.slice(at)}`;
  return address.split(/[?#]/, 1)[0] ?? '';
}

/** fetch refuses addresses with credentials: they become a Basic authorization header. */
function withoutCredentials(url: string): {
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

function seconds(ms: number): string {
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
    return reason ?? '';
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
  const target = withoutCredentials(url);
  const secrets = [...(options.secrets ?? []), ...target.secrets];
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
    const what = code === 'ECONNREFUSED' ? 'connection refused' : (code ?? 'network error');
    const said = typeof cause?.message === 'string' ? cause.message : String(error);
    throw new UpstreamError('connection', service, `cannot reach the server (${what})`, {
      url: shownUrl,
      cause: error,
      upstreamReason: redactSecrets(said, secrets),
    });
  };

  let response: Response;
  try {
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
    const reason = redactSecrets(reasonOf(text), secrets);
    throw new UpstreamError('http', service, `HTTP ${response.status}`, {
      status: response.status,
      url: shownUrl,
      upstreamReason: reason === '' ? undefined : reason,
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError('malformed', service, 'answered with malformed JSON', {
      url: shownUrl,
      upstreamReason: redactSecrets(`starts with ${JSON.stringify(text.slice(0, 80))}`, secrets),
    });
  }
}
