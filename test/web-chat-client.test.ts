/** The chat's API client over real HTTP (a small node:http server playing the API): streamed
 * turns, the fallback to POST /message where the stream route is missing, errors before and
 * inside the stream, a connection refused or cut, history and reset with the session token. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ChatClient } from '../web/src/chat/chat-client.js';
import { freePort } from './support/redis-server.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const REPLY = {
  response: 'Torneira pingando: Trocar o courinho',
  session_id: 'web-1',
  state: 'waiting_feedback',
  metadata: { current_attempt: 1, max_attempts: 3, sources: ['torneira-pingando'] },
  timestamp: '2026-01-01T00:00:00.000Z',
};

describe('ChatClient', () => {
  let server: Server;
  let base: string;
  let routes: Record<string, Handler>;
  const seen: { method: string; url: string; token: string | undefined; body: string }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const token = request.headers['x-session-token'];
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          token: typeof token === 'string' ? token : undefined,
          body,
        });
        const handler = routes[`${request.method} ${request.url}`];
        if (handler) handler(request, body, response);
        else {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ detail: 'Não existe a rota.' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    routes = {};
    seen.length = 0;
  });

  const sse = (response: ServerResponse, headers: Record<string, string> = {}) => {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...headers });
  };
  const json = (response: ServerResponse, status: number, value: unknown, headers = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(value));
  };
  const turn = { message: 'a torneira pinga', sessionId: 'web-1', token: null };

  it('streams a reply: deltas as they come, then the done body and the header token', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      sse(response, { 'x-session-token': 'tok-header' });
      response.write(': keep-alive\n\n');
      response.write('event: delta\ndata: {"text":"Torneira "}\n\n');
      response.write('event: delta\ndata: {"text":"pingando"}\n');
      response.write('\nevent: done\ndata: ');
      response.end(`${JSON.stringify({ ...REPLY, session_token: 'tok-body' })}\n\n`);
    };
    const deltas: string[] = [];
    const outcome = await new ChatClient({ base }).send(turn, (text) => deltas.push(text));
    assert.ok(outcome.ok);
    assert.deepEqual(deltas, ['Torneira ', 'pingando']);
    assert.equal(outcome.value.reply.response, REPLY.response);
    assert.deepEqual(outcome.value.reply.metadata.sources, ['torneira-pingando']);
    assert.equal(outcome.value.token, 'tok-header', 'the header wins over the body');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), {
      message: 'a torneira pinga',
      session_id: 'web-1',
    });
    assert.equal(seen[0]?.token, undefined, 'no token header before the browser holds one');
  });

  it('takes the token from the done body when the header has none, and sends it afterwards', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      sse(response);
      response.end(
        `event: done\ndata: ${JSON.stringify({ ...REPLY, session_token: 'tok-body' })}\n\n`,
      );
    };
    const client = new ChatClient({ base });
    const first = await client.send(turn, () => undefined);
    assert.ok(first.ok);
    assert.equal(first.value.token, 'tok-body');
    await client.send({ ...turn, message: 'não', token: 'tok-body' }, () => undefined);
    assert.equal(seen[1]?.token, 'tok-body');
  });

  it('falls back to POST /message when the stream route answers 404, and stays there', async () => {
    routes['POST /api/v1/chat/message'] = (_request, _body, response) =>
      json(
        response,
        200,
        { ...REPLY, session_token: 'tok-plain' },
        { 'x-session-token': 'tok-plain' },
      );
    const client = new ChatClient({ base });
    const deltas: string[] = [];
    const outcome = await client.send(turn, (text) => deltas.push(text));
    assert.ok(outcome.ok);
    assert.equal(outcome.value.reply.response, REPLY.response);
    assert.equal(outcome.value.token, 'tok-plain');
    assert.deepEqual(deltas, []);
    assert.equal(client.streaming, false);
    await client.send(turn, () => undefined);
    assert.deepEqual(
      seen.map((request) => request.url),
      ['/api/v1/chat/message/stream', '/api/v1/chat/message', '/api/v1/chat/message'],
    );
  });

  it('reports an error known before the stream (422) with its detail', async () => {
    const detail = 'A mensagem deve ter no máximo 4096 caracteres.';
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) =>
      json(response, 422, { detail, error: 'Dados inválidos', errors: [] });
    const outcome = await new ChatClient({ base }).send(turn, () => undefined);
    assert.deepEqual(outcome, { ok: false, failure: { kind: 'http', status: 422, detail } });
  });

  it('reports a 429 with its Retry-After', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) =>
      json(response, 429, { detail: 'Muitas mensagens.' }, { 'retry-after': '41' });
    const outcome = await new ChatClient({ base }).send(turn, () => undefined);
    assert.deepEqual(outcome, {
      ok: false,
      failure: { kind: 'http', status: 429, detail: 'Muitas mensagens.', retryAfterSeconds: 41 },
    });
  });

  it('reports an error event inside the stream with its status and detail', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      sse(response);
      response.write('event: delta\ndata: {"text":"Entendi"}\n\n');
      response.end(
        'event: error\ndata: {"status":504,"detail":"O modelo não respondeu a tempo."}\n\n',
      );
    };
    const deltas: string[] = [];
    const outcome = await new ChatClient({ base }).send(turn, (text) => deltas.push(text));
    assert.deepEqual(deltas, ['Entendi']);
    assert.deepEqual(outcome, {
      ok: false,
      failure: { kind: 'http', status: 504, detail: 'O modelo não respondeu a tempo.' },
    });
  });

  it('reports a stream that ends without done as a connection cut mid-stream', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      sse(response);
      response.end('event: delta\ndata: {"text":"Entendi"}\n\n');
    };
    const outcome = await new ChatClient({ base }).send(turn, () => undefined);
    assert.deepEqual(outcome, { ok: false, failure: { kind: 'network', midStream: true } });
  });

  it('reports a socket destroyed mid-stream the same way', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      sse(response);
      response.write('event: delta\ndata: {"text":"Entendi"}\n\n', () =>
        response.socket?.destroy(),
      );
    };
    const outcome = await new ChatClient({ base }).send(turn, () => undefined);
    assert.deepEqual(outcome, { ok: false, failure: { kind: 'network', midStream: true } });
  });

  it('reports a refused connection as a network failure', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const client = new ChatClient({ base: closed });
    assert.deepEqual(await client.send(turn, () => undefined), {
      ok: false,
      failure: { kind: 'network', midStream: false },
    });
    assert.deepEqual(await client.history('web-1', 't'), {
      ok: false,
      failure: { kind: 'network', midStream: false },
    });
  });

  it('reports a 200 that is not a reply (a proxy page) as a server error', async () => {
    routes['POST /api/v1/chat/message/stream'] = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>login</html>');
    };
    const outcome = await new ChatClient({ base }).send(turn, () => undefined);
    assert.deepEqual(outcome, {
      ok: false,
      failure: { kind: 'http', status: 502, detail: undefined },
    });
  });

  it('reads the history with the token, and says 404 when it is gone', async () => {
    routes['GET /api/v1/chat/history/web-1'] = (request, _body, response) =>
      request.headers['x-session-token'] === 'tok'
        ? json(response, 200, {
            session_id: 'web-1',
            state: 'waiting_feedback',
            current_attempt: 1,
            max_attempts: 3,
            messages: [
              { role: 'user', content: 'oi', at: '2026-01-01T00:00:00Z' },
              { role: 'system', content: 'ignored', at: '' },
            ],
            updated_at: '2026-01-01T00:00:00Z',
          })
        : json(response, 404, { detail: 'Sessão não encontrada.' });
    const client = new ChatClient({ base });
    const read = await client.history('web-1', 'tok');
    assert.ok(read.ok);
    assert.deepEqual(read.value.messages, [
      { role: 'user', content: 'oi', at: '2026-01-01T00:00:00Z' },
    ]);
    const refused = await client.history('web-1', 'wrong');
    assert.deepEqual(refused, {
      ok: false,
      failure: { kind: 'http', status: 404, detail: 'Sessão não encontrada.' },
    });
  });

  it('resets with DELETE and the token', async () => {
    routes['DELETE /api/v1/chat/reset/web-1'] = (_request, _body, response) =>
      json(response, 200, { message: 'ok' });
    assert.deepEqual(await new ChatClient({ base }).reset('web-1', 'tok'), {
      ok: true,
      value: null,
    });
    assert.deepEqual(seen.at(-1), {
      method: 'DELETE',
      url: '/api/v1/chat/reset/web-1',
      token: 'tok',
      body: '',
    });
  });
});
