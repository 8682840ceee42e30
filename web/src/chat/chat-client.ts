/**
 * The chat's calls to the API: a turn (streamed, or in one answer where the stream route is not
 * deployed), the history of a session and its reset. Only fetch: node's test runner runs it too.
 */
import { type ApiFailure, httpFailure } from '../shared/api-failure.js';
import { SseParser } from '../shared/sse.js';
import { asChatHistory, asChatReply, type ChatHistory, type ChatReply } from './chat-api.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ApiFailure };

export interface ChatClientOptions {
  /** Address of the API; the page's own origin when empty. @default '' */
  base?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface TurnRequest {
  message: string;
  /** The conversation to continue; undefined starts a new one, under an id the server makes
   * (a server-made id can be started even while Redis is away). */
  sessionId: string | undefined;
  /** The session's token, when the browser holds one. */
  token: string | null;
}

export interface TurnAnswer {
  reply: ChatReply;
  /** The token of a session this turn created (header or body). */
  token: string | undefined;
}

const TOKEN_HEADER = 'x-session-token';

const networkFailure = (midStream: boolean): Outcome<never> => ({
  ok: false,
  failure: { kind: 'network', midStream },
});

async function failureOf(response: Response): Promise<Outcome<never>> {
  const body = await response.text().catch(() => '');
  return {
    ok: false,
    failure: httpFailure(response.status, body, response.headers.get('retry-after')),
  };
}

/** A 200 whose body is not what the contract says: reported as a server error. */
const malformed = (status: number): Outcome<never> => ({
  ok: false,
  failure: { kind: 'http', status: status === 200 ? 502 : status, detail: undefined },
});

export class ChatClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  /** Set after the stream route answered 404: this server predates it. */
  #streamMissing = false;

  constructor(options: ChatClientOptions = {}) {
    this.#base = options.base ?? '';
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Whether turns still go through the stream route. */
  get streaming(): boolean {
    return !this.#streamMissing;
  }

  /** One turn. `onDelta` receives the reply's text as it is written (streamed turns only). */
  async send(request: TurnRequest, onDelta: (text: string) => void): Promise<Outcome<TurnAnswer>> {
    const init: RequestInit = {
      method: 'POST',
      headers: this.#headers(request.token, { 'content-type': 'application/json' }),
      body: JSON.stringify({
        message: request.message,
        ...(request.sessionId !== undefined && { session_id: request.sessionId }),
      }),
    };
    if (!this.#streamMissing) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.#base}/api/v1/chat/message/stream`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), accept: 'text/event-stream' },
        });
      } catch {
        return networkFailure(false);
      }
      if (response.status !== 404) return this.#readTurn(response, onDelta);
      await response.body?.cancel().catch(() => undefined);
      this.#streamMissing = true;
    }
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/api/v1/chat/message`, init);
    } catch {
      return networkFailure(false);
    }
    return this.#readTurn(response, onDelta);
  }

  async history(sessionId: string, token: string | null): Promise<Outcome<ChatHistory>> {
    let response: Response;
    try {
      response = await this.#fetch(
        `${this.#base}/api/v1/chat/history/${encodeURIComponent(sessionId)}`,
        { headers: this.#headers(token) },
      );
    } catch {
      return networkFailure(false);
    }
    if (!response.ok) return failureOf(response);
    const history = asChatHistory(await response.json().catch(() => undefined));
    return history ? { ok: true, value: history } : malformed(response.status);
  }

  async reset(sessionId: string, token: string | null): Promise<Outcome<null>> {
    let response: Response;
    try {
      response = await this.#fetch(
        `${this.#base}/api/v1/chat/reset/${encodeURIComponent(sessionId)}`,
        { method: 'DELETE', headers: this.#headers(token) },
      );
    } catch {
      return networkFailure(false);
    }
    if (!response.ok) return failureOf(response);
    await response.body?.cancel().catch(() => undefined);
    return { ok: true, value: null };
  }

  #headers(token: string | null, extra: Record<string, string> = {}): Record<string, string> {
    return token === null ? extra : { ...extra, 'x-session-token': token };
  }

  async #readTurn(
    response: Response,
    onDelta: (text: string) => void,
  ): Promise<Outcome<TurnAnswer>> {
    if (!response.ok) return failureOf(response);
    const headerToken = response.headers.get(TOKEN_HEADER) ?? undefined;
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      const reply = asChatReply(await response.json().catch(() => undefined));
      if (!reply) return malformed(response.status);
      return { ok: true, value: { reply, token: headerToken ?? reply.session_token } };
    }
    const outcome = await this.#readEvents(response, onDelta);
    if (!outcome.ok) return outcome;
    const reply = outcome.value;
    return { ok: true, value: { reply, token: headerToken ?? reply.session_token } };
  }

  /** Reads `delta` events up to the one `done` (the reply) or `error` (a failure). */
  async #readEvents(
    response: Response,
    onDelta: (text: string) => void,
  ): Promise<Outcome<ChatReply>> {
    const reader = response.body?.getReader();
    if (!reader) return networkFailure(true);
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        const events = done ? parser.end() : parser.push(decoder.decode(value, { stream: true }));
        for (const event of events) {
          const data = parseJson(event.data);
          if (event.event === 'delta') {
            const text = (data as { text?: unknown } | undefined)?.text;
            if (typeof text === 'string') onDelta(text);
          } else if (event.event === 'done') {
            const reply = asChatReply(data);
            return reply ? { ok: true, value: reply } : malformed(200);
          } else if (event.event === 'error') {
            const { status, detail } = (data ?? {}) as { status?: unknown; detail?: unknown };
            return {
              ok: false,
              failure: {
                kind: 'http',
                status: Number.isInteger(status) ? (status as number) : 502,
                detail: typeof detail === 'string' && detail.trim() !== '' ? detail : undefined,
              },
            };
          }
        }
        if (done) return networkFailure(true);
      }
    } catch {
      return networkFailure(true);
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
