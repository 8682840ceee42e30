/**
 * Small local HTTP servers that speak the wire formats the agent calls: Ollama's `/api/chat`,
 * OpenAI's `/v1/chat/completions` and SearxNG's `/search?format=json`. Each records the requests
 * it receives and answers as told: a reply (whole, or streamed when the request asks for it), an
 * HTTP error, malformed JSON, a stream that fails halfway or waits for the test, or nothing at
 * all. They listen on 127.0.0.1, on a free port, and are closed by the test file that started
 * them.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Wire = 'ollama' | 'openai' | 'searxng';

/** What the agent sends to a chat endpoint (both wire formats). */
export interface ChatBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
  options?: { temperature?: number; num_predict?: number };
}

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. "/api/chat" or "/search?q=...". */
  url: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed (undefined for a GET or a body that is not JSON). */
  body: ChatBody | undefined;
}

/** How the server answers one request. */
export type Behaviour = (request: RecordedRequest, response: ServerResponse, wire: Wire) => void;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A model reply in the server's own format (for SearxNG: no results); streamed a word at a
 * time when the request asks for a stream. */
export const reply =
  (text: string): Behaviour =>
  (request, response, wire) => {
    const model = request.body?.model ?? 'unknown';
    if (request.body?.stream === true && wire !== 'searxng') {
      streamed({ tokens: text.match(/\S+\s*|\s+/g) ?? [], pauseMs: 0 })(request, response, wire);
    } else if (wire === 'ollama') {
      sendJson(response, 200, {
        model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: text },
        done: true,
        done_reason: 'stop',
      });
    } else if (wire === 'openai') {
      sendJson(response, 200, {
        id: 'chatcmpl-test',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' },
        ],
      });
    } else {
      sendJson(response, 200, { query: '', results: [] });
    }
  };

/** SearxNG search results. */
export const results =
  (items: Array<{ title: string; url: string; content?: string }>): Behaviour =>
  (_request, response) =>
    sendJson(response, 200, {
      query: '',
      number_of_results: items.length,
      results: items.map((item) => ({ engine: 'test', score: 1, ...item })),
    });

/** Any JSON document with this status. */
export const json =
  (body: unknown, status = 200): Behaviour =>
  (_request, response) =>
    sendJson(response, status, body);

/** Raw text sent as JSON (malformed on purpose), or as another media type. */
export const raw =
  (text: string, status = 200, contentType = 'application/json'): Behaviour =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(text);
  };

/** Accepts the request and never answers. */
export const hang: Behaviour = () => {};

/** Sends the headers and then one byte every 50 ms, forever: a stream that never ends. */
export const trickle: Behaviour = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  response.write('{"message":{"role":"assistant","content":"Passo 1');
  const timer = setInterval(() => response.write('.'), 50);
  response.on('close', () => clearInterval(timer));
};

/** A door a streamed reply waits at until the test opens it. */
export class Gate {
  #open = false;
  #waiting: Array<() => void> = [];

  get isOpen(): boolean {
    return this.#open;
  }

  open(): void {
    this.#open = true;
    for (const resume of this.#waiting.splice(0)) resume();
  }

  wait(): Promise<void> {
    return this.#open ? Promise.resolve() : new Promise((resume) => this.#waiting.push(resume));
  }
}

export interface StreamScript {
  /** The reply's pieces, sent in order, each as one chunk of the server's format. */
  tokens: readonly string[];
  /** Milliseconds between two pieces, as a model writes. @default 2 */
  pauseMs?: number;
  /** The piece of this index (0-based; tokens.length: the end of the reply) waits for `gate`. */
  holdAt?: number;
  gate?: Gate;
  /** After this many pieces, fail instead of going on. */
  failAfter?: number;
  /** "close": the connection is destroyed; "error": the server's error chunk, then the end.
   * @default "close" */
  failWith?: 'close' | 'error';
  /** Ollama's done_reason, OpenAI's finish_reason. @default "stop" */
  finish?: string;
  /** What the server did, in order: "sent:<piece>", then "end", "failed" or "client-closed". */
  events?: string[];
}

function chunkOf(wire: Wire, model: string, text: string): string {
  if (wire === 'ollama') {
    const message = { role: 'assistant', content: text };
    return `${JSON.stringify({ model, created_at: new Date().toISOString(), message, done: false })}\n`;
  }
  const choice = { index: 0, delta: { content: text }, finish_reason: null };
  return `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', model, choices: [choice] })}\n\n`;
}

function endOf(wire: Wire, model: string, finish: string): string {
  if (wire === 'ollama') {
    const message = { role: 'assistant', content: '' };
    return `${JSON.stringify({ model, message, done: true, done_reason: finish, eval_count: 1 })}\n`;
  }
  const choice = { index: 0, delta: {}, finish_reason: finish };
  return `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', model, choices: [choice] })}\n\ndata: [DONE]\n\n`;
}

function errorOf(wire: Wire): string {
  return wire === 'ollama'
    ? `${JSON.stringify({ error: 'model runner has unexpectedly stopped' })}\n`
    : `data: ${JSON.stringify({ error: { message: 'model crashed', type: 'server_error', code: 500 } })}\n\n`;
}

/** A reply streamed in the server's own format (NDJSON for Ollama, server-sent events for
 * OpenAI), a piece at a time, as the script says. */
export const streamed =
  (script: StreamScript): Behaviour =>
  (request, response, wire) => {
    const model = request.body?.model ?? 'unknown';
    const events = script.events ?? [];
    // Closed by the client before the server ended the reply (done), or after.
    let closed = false;
    let done = false;
    response.on('close', () => {
      closed = true;
      if (!done) events.push('client-closed');
    });
    response.on('error', () => {});
    response.writeHead(200, {
      'content-type': wire === 'ollama' ? 'application/x-ndjson' : 'text/event-stream',
    });
    const run = async () => {
      const { tokens, pauseMs = 2 } = script;
      for (let i = 0; i <= tokens.length; i++) {
        if (i === script.holdAt) await script.gate?.wait();
        if (closed) return;
        if (i === script.failAfter) {
          done = true;
          events.push('failed');
          if (script.failWith === 'error') response.end(errorOf(wire));
          else response.destroy();
          return;
        }
        if (i === tokens.length) break;
        const token = tokens[i] as string;
        response.write(chunkOf(wire, model, token));
        events.push(`sent:${token}`);
        if (pauseMs > 0) await new Promise((resume) => setTimeout(resume, pauseMs));
      }
      if (closed) return;
      done = true;
      response.end(endOf(wire, model, script.finish ?? 'stop'));
      events.push('end');
    };
    void run();
  };

const ROUTES: Record<Wire, { method: string; path: string; base: string }> = {
  ollama: { method: 'POST', path: '/api/chat', base: '' },
  openai: { method: 'POST', path: '/v1/chat/completions', base: '/v1' },
  searxng: { method: 'GET', path: '/search', base: '' },
};

export class FakeServer {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #wire: Wire;
  #queue: Behaviour[];
  #url = '';

  private constructor(wire: Wire) {
    this.#wire = wire;
    this.#queue = [reply('Resposta de teste.')];
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: ChatBody | undefined;
        try {
          body = text === '' ? undefined : (JSON.parse(text) as ChatBody);
        } catch {
          body = undefined;
        }
        const recorded = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body,
        };
        this.requests.push(recorded);
        const route = ROUTES[this.#wire];
        const path = recorded.url.split('?')[0];
        if (recorded.method !== route.method || path !== route.path) {
          sendJson(response, 404, { error: `no route ${recorded.method} ${path}` });
          return;
        }
        const next = this.#queue.length > 1 ? this.#queue.shift() : this.#queue[0];
        next?.(recorded, response, this.#wire);
      });
    });
  }

  /** A server speaking `wire`, listening on 127.0.0.1 on a free port; it answers
   * "Resposta de teste." until told otherwise. */
  static async start(wire: Wire): Promise<FakeServer> {
    const fake = new FakeServer(wire);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.#url = `http://127.0.0.1:${port}${ROUTES[wire].base}`;
    return fake;
  }

  /** The address to configure: Ollama's and SearxNG's root, or OpenAI's ".../v1". */
  get url(): string {
    return this.#url;
  }

  /** Answers the next requests with these behaviours in turn; the last one then repeats. */
  behave(...behaviours: Behaviour[]): this {
    if (behaviours.length === 0) throw new Error('behave() needs at least one behaviour');
    this.#queue = behaviours;
    return this;
  }

  /** The last request received. */
  get last(): RecordedRequest {
    const request = this.requests.at(-1);
    if (request === undefined) throw new Error('no request received');
    return request;
  }

  /** Forgets the requests received. */
  clear(): void {
    this.requests.length = 0;
  }

  /** Closes the server and every connection still open (hanging ones included). */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** An address where nothing listens: connecting is refused. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
