/**
 * A chat client for the tests, over inject() or over HTTP: it keeps each session's token, as the
 * web app does, and sends it back with every later request on that session.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the tests
  body: any;
  text: string;
}

interface Request {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

type Send = (request: Request) => Promise<Answer>;

function parse(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ChatClient {
  /** Tokens of the sessions this client created, by session id. */
  readonly tokens: Map<string, string>;
  /** POST /api/v1/chat/message. A session_id in `payload` gets its known token sent along;
   * `headers` can replace it (e.g. to send a wrong one). */
  chat(payload: unknown, extra?: Partial<Request>): Promise<Answer>;
  /** `chat` with only a message and a session id. */
  say(sessionId: string | undefined, message: string): Promise<Answer>;
  reset(sessionId: string, extra?: Partial<Request>): Promise<Answer>;
  history(sessionId: string, extra?: Partial<Request>): Promise<Answer>;
  /** Any other request, as is. */
  send(request: Request): Promise<Answer>;
}

function client(send: Send): ChatClient {
  const tokens = new Map<string, string>();
  const withToken = (sessionId: string | undefined, extra: Partial<Request>) => {
    const token = sessionId === undefined ? undefined : tokens.get(sessionId);
    return {
      ...extra,
      headers: { ...(token && { 'x-session-token': token }), ...extra.headers },
    };
  };
  const remember = (answer: Answer, sessionId: unknown = answer.body?.session_id) => {
    const token = answer.headers['x-session-token'];
    if (typeof token === 'string' && typeof sessionId === 'string') tokens.set(sessionId, token);
    return answer;
  };
  const chat: ChatClient['chat'] = async (payload, extra = {}) => {
    const sessionId = (payload as { session_id?: unknown } | null)?.session_id;
    return remember(
      await send({
        method: 'POST',
        url: '/api/v1/chat/message',
        payload,
        ...withToken(typeof sessionId === 'string' ? sessionId : undefined, extra),
      }),
    );
  };
  return {
    tokens,
    chat,
    say: (sessionId, message) =>
      chat(sessionId === undefined ? { message } : { message, session_id: sessionId }),
    reset: async (sessionId, extra = {}) =>
      remember(
        await send({
          method: 'DELETE',
          url: `/api/v1/chat/reset/${sessionId}`,
          ...withToken(sessionId, extra),
        }),
        sessionId,
      ),
    history: (sessionId, extra = {}) =>
      send({
        method: 'GET',
        url: `/api/v1/chat/history/${sessionId}`,
        ...withToken(sessionId, extra),
      }),
    send,
  };
}

/** A client of an app under test, through inject(). */
export function injectClient(app: FastifyInstance): ChatClient {
  return client(async (request) => {
    const options: InjectOptions = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.remoteAddress && { remoteAddress: request.remoteAddress }),
    };
    if (request.payload !== undefined) {
      if (typeof request.payload === 'string') options.payload = request.payload;
      else options.payload = request.payload as object;
    }
    const response = await app.inject(options);
    return {
      status: response.statusCode,
      headers: response.headers as Answer['headers'],
      body: parse(response.body),
      text: response.body,
    };
  });
}

/** A client of a server process, over HTTP. */
export function httpClient(base: string): ChatClient {
  return client(async (request) => {
    const json = request.payload !== undefined && typeof request.payload !== 'string';
    const response = await fetch(`${base}${request.url}`, {
      method: request.method,
      headers: { ...(json && { 'content-type': 'application/json' }), ...request.headers },
      body:
        request.payload === undefined
          ? undefined
          : typeof request.payload === 'string'
            ? request.payload
            : JSON.stringify(request.payload),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parse(text),
      text,
    };
  });
}
