import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Responder } from '../src/agent/types.js';
import { createApi } from '../src/api/create-api.js';
import { encodeSession } from '../src/sessions/codec.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { errors } from '../src/texts/api.js';
import { type ChatClient, injectClient } from './support/chat.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { TEST_ADMIN_KEY, testApi } from './support/test-api.js';

const ADMIN_KEY = TEST_ADMIN_KEY;
const asAdmin = { authorization: `Bearer ${ADMIN_KEY}` };

const api = testApi;

async function send(app: FastifyInstance, options: InjectOptions) {
  const response = await app.inject(options);
  const json =
    response.body === ''
      ? undefined
      : (() => {
          try {
            return JSON.parse(response.body);
          } catch {
            return undefined;
          }
        })();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: json,
    text: response.body,
  };
}

/** One client per app under test: it keeps the sessions' tokens. */
const clients = new WeakMap<FastifyInstance, ChatClient>();
const clientOf = (app: FastifyInstance) => {
  let client = clients.get(app);
  if (!client) {
    client = injectClient(app);
    clients.set(app, client);
  }
  return client;
};
const chat = (app: FastifyInstance, payload: unknown, extra: Partial<InjectOptions> = {}) =>
  clientOf(app).chat(payload, extra as Parameters<ChatClient['chat']>[1]);

describe('HTTP API', () => {
  let app: FastifyInstance;
  let store: MemorySessionStore;
  let logs: ReturnType<typeof captureLogs>;
  before(async () => {
    ({ app, store, logs } = await api());
  });
  after(async () => {
    await app.close();
  });

  describe('chat', () => {
    it('answers in the original shape', async () => {
      const { status, body } = await chat(app, {
        message: '  a torneira está pingando  ',
        session_id: 'shape',
      });
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), [
        'metadata',
        'response',
        'session_id',
        'session_token',
        'state',
        'timestamp',
      ]);
      assert.equal(body.session_id, 'shape');
      assert.equal(body.state, 'waiting_feedback');
      assert.deepEqual(body.metadata, {
        rag_enabled: true,
        web_search_enabled: true,
        current_attempt: 1,
        max_attempts: 3,
        sources: ['torneira-pingando'],
        web_sources: [],
        llm_provider: 'offline',
        fallback_used: false,
        web_search: 'not_needed',
        relevance_score: body.metadata.relevance_score,
      });
      assert.equal(typeof body.metadata.relevance_score, 'number');
      assert.ok(body.metadata.relevance_score > 0 && body.metadata.relevance_score <= 1);
      assert.match(body.response, /O problema foi resolvido\?/);
      assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
      const stored = JSON.parse((await store.get('shape')) ?? '{}');
      assert.equal(stored.conversation_history[0].content, 'a torneira está pingando', 'trimmed');
    });

    it('gives a request without session_id a fresh random session, never a shared one', async () => {
      const first = await chat(app, {
        message: 'a porta está rangendo',
        use_rag: false,
        use_web_search: false,
      });
      const second = await chat(app, { message: 'a porta está rangendo' });
      assert.equal(first.status, 200);
      assert.match(first.body.session_id, /^[0-9a-f-]{36}$/);
      assert.notEqual(first.body.session_id, second.body.session_id);
      assert.equal(await store.exists('default'), false);
      assert.equal(first.body.metadata.rag_enabled, false);
      assert.equal(first.body.metadata.web_search_enabled, false);
      assert.equal(first.headers['x-session-token'], first.body.session_token);
      assert.ok(first.body.session_token.length >= 22, 'at least 128 random bits');
    });

    it('walks a problem to the professional: problem, não, não, não', async () => {
      const id = 'exhaust';
      const states = [];
      let last = '';
      for (const message of ['o disjuntor cai toda hora', 'não', 'não', 'não']) {
        const { status, body } = await chat(app, { message, session_id: id });
        assert.equal(status, 200);
        states.push([body.state, body.metadata.current_attempt]);
        last = body.response;
      }
      assert.match(last, /profissional qualificado/);
      assert.deepEqual(states, [
        ['waiting_feedback', 1],
        ['waiting_feedback', 2],
        ['waiting_feedback', 3],
        ['max_attempts', 3],
      ]);
    });

    it('resolves a problem: problem, sim', async () => {
      await chat(app, { message: 'a pia está entupida', session_id: 'fixed' });
      const { body } = await chat(app, { message: 'sim', session_id: 'fixed' });
      assert.equal(body.state, 'resolved');
    });

    it('resets a session to a new problem, and answers 404 for an unknown one', async () => {
      await chat(app, { message: 'a pia está entupida', session_id: 'to-reset' });
      const reset = await clientOf(app).reset('to-reset');
      assert.equal(reset.status, 200);
      assert.equal(typeof reset.body.message, 'string');
      const next = await chat(app, { message: 'a geladeira não gela', session_id: 'to-reset' });
      assert.equal(next.body.metadata.current_attempt, 1);
      assert.match(next.body.response, /Geladeira/);
      const missing = await clientOf(app).reset('never-seen');
      assert.equal(missing.status, 404);
      assert.match(missing.body.detail, /Sessão "never-seen" não encontrada/);
      assert.equal(await store.exists('never-seen'), false);
    });
  });

  describe('bad input: a clear 4xx, nothing written', () => {
    const rejected = async (
      payload: unknown,
      field: string,
      extra: Partial<InjectOptions> = {},
    ) => {
      const before = store.size;
      const { status, body } = await chat(app, payload, extra);
      assert.equal(status, 422, JSON.stringify(body));
      assert.equal(body.error, 'Dados inválidos');
      assert.equal(typeof body.detail, 'string');
      const fields = body.errors.map((d: { field: string }) => d.field);
      assert.ok(fields.includes(field), `${JSON.stringify(body.errors)} names ${field}`);
      assert.equal(store.size, before, 'nothing written');
    };

    it('names the field of a bad message', async () => {
      await rejected({ message: '' }, 'message');
      await rejected({ message: '   ' }, 'message');
      await rejected({ message: '?!...' }, 'message');
      await rejected({ message: 'a\u0000b' }, 'message');
      await rejected({ message: 'x'.repeat(4097) }, 'message');
      await rejected({ message: 42 }, 'message');
      await rejected({}, 'message');
    });

    it('names a hostile session id', async () => {
      for (const id of ['*', '../x', 'a b', 'a'.repeat(129), '', 'x'.repeat(10240)]) {
        await rejected({ message: 'oi', session_id: id }, 'session_id');
      }
    });

    it('names wrong types and unknown fields', async () => {
      await rejected({ message: 'oi', use_rag: 'yes' }, 'use_rag');
      await rejected({ message: 'oi', admin: true }, 'admin');
    });

    it('refuses a body that is not a JSON object', async () => {
      for (const payload of ['[1,2]', '"text"', 'null']) {
        const { status } = await chat(app, payload, {
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(status, 422, payload);
      }
    });

    it('refuses a body that is not JSON with 415', async () => {
      const { status, body } = await chat(app, '<message>oi</message>', {
        headers: { 'content-type': 'application/xml' },
      });
      assert.equal(status, 415);
      assert.match(body.detail, /application\/json/);
    });

    it('refuses malformed JSON', async () => {
      const { status, body } = await chat(app, '{"message": "oi",', {
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(status, 422);
      assert.match(body.detail, /não é um JSON válido/);
      assert.equal(body.errors[0].type, 'json_invalid');
    });

    it('refuses a body over 64 KiB, including 10 MB', async () => {
      for (const size of [70 * 1024, 10 * 1024 * 1024]) {
        const payload = JSON.stringify({ message: 'x'.repeat(size) });
        const { status, body } = await chat(app, payload, {
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(status, 413);
        assert.match(body.detail, /64 KiB/);
      }
    });

    it('refuses hostile ids in paths', async () => {
      for (const url of [
        '/api/v1/chat/reset/*',
        '/api/v1/chat/reset/a%20b',
        `/api/v1/chat/reset/${'a'.repeat(129)}`,
      ]) {
        const { status, body } = await send(app, { method: 'DELETE', url });
        assert.equal(status, 422, url);
        assert.equal(body.errors[0].field, 'session_id');
      }
    });

    it('takes a 128-character id in a path, and refuses a 10 KB one', async () => {
      const longest = await send(app, {
        method: 'DELETE',
        url: `/api/v1/chat/reset/${'a'.repeat(128)}`,
      });
      assert.equal(longest.status, 404);
      const huge = await send(app, {
        method: 'DELETE',
        url: `/api/v1/chat/reset/${'a'.repeat(10240)}`,
      });
      assert.equal(huge.status, 414);
      assert.ok(huge.text.length < 200, 'the path is not echoed');
      const malformed = await send(app, { method: 'DELETE', url: '/api/v1/chat/reset/%zz' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.detail, errors.malformedUrl);
    });

    it('answers an unknown route with 404 in the same shape', async () => {
      const { status, body } = await send(app, { url: '/api/v1/nothing' });
      assert.equal(status, 404);
      assert.equal(typeof body.detail, 'string');
    });
  });

  describe('service routes', () => {
    it('reports health', async () => {
      const { status, body } = await send(app, { url: '/health' });
      assert.equal(status, 200);
      assert.equal(body.status, 'healthy');
      assert.equal(body.service, 'repair-agent-api');
      assert.match(body.version, /^\d+\.\d+\.\d+/);
      assert.deepEqual(body.session_store, { backend: 'memory', connected: true });
    });

    it('describes itself at / and serves docs generated from the route schemas', async () => {
      assert.deepEqual((await send(app, { url: '/' })).body.docs, '/docs');
      const docs = await send(app, { url: '/docs/' });
      assert.equal(docs.status, 200);
      assert.match(docs.text, /Swagger UI/);
      const openapi = (await send(app, { url: '/openapi.json' })).body;
      assert.equal(openapi.openapi.slice(0, 2), '3.');
      const chatBody =
        openapi.paths['/api/v1/chat/message'].post.requestBody.content['application/json'].schema;
      assert.deepEqual(chatBody.required, ['message']);
      assert.equal(chatBody.properties.message.maxLength, 4096);
      assert.ok(openapi.paths['/api/v1/sessions/{session_id}'].get.security);
    });

    it('exposes Prometheus metrics: requests, store operations, backend in use', async () => {
      await chat(app, { message: 'a torneira está pingando', session_id: 'metrics' });
      const { status, text, headers } = await send(app, { url: '/metrics' });
      assert.equal(status, 200);
      assert.match(String(headers['content-type']), /text\/plain/);
      assert.match(
        text,
        /http_requests_total\{method="POST",route="\/api\/v1\/chat\/message",status_code="200"\} \d+/,
      );
      assert.match(
        text,
        /http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/v1\/chat\/message"/,
      );
      assert.match(
        text,
        /session_store_operations_total\{backend="memory",operation="set",outcome="ok"\} \d+/,
      );
      assert.match(text, /session_store_backend\{backend="memory"\} 1/);
      assert.match(text, /session_store_backend\{backend="redis"\} 0/);
    });

    it('sends security headers', async () => {
      const { headers } = await send(app, { url: '/health' });
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.ok(headers['content-security-policy']);
      assert.ok(headers['strict-transport-security']);
    });

    it('allows CORS for the configured origin only', async () => {
      const allowed = await send(app, {
        url: '/health',
        headers: { origin: 'http://localhost:5173' },
      });
      assert.equal(allowed.headers['access-control-allow-origin'], 'http://localhost:5173');
      const other = await send(app, { url: '/health', headers: { origin: 'http://evil.example' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    });

    it('logs each request once with method, route, status, duration and session id', async () => {
      logs.lines.length = 0;
      await chat(app, { message: 'a torneira está pingando', session_id: 'logged' });
      const lines = logs.records().filter((r) => r.event_type === 'http_request');
      assert.equal(lines.length, 1);
      const [line] = lines;
      assert.equal(line?.method, 'POST');
      assert.equal(line?.route, '/api/v1/chat/message');
      assert.equal(line?.status_code, 200);
      assert.equal(typeof line?.duration_ms, 'number');
      assert.equal(line?.session_id, 'logged');
      assert.equal(line?.component, 'api');
      assert.equal(line?.level, 'INFO');
    });
  });

  describe('admin routes', () => {
    it('answer only the admin key: no client address grants them, loopback included', async () => {
      await chat(app, { message: 'a torneira está pingando', session_id: 'listed' });
      for (const remoteAddress of ['127.0.0.1', '::1', '203.0.113.9']) {
        for (const url of ['/api/v1/chat/sessions', '/api/v1/sessions/listed']) {
          const refused = await send(app, { url, remoteAddress });
          assert.equal(refused.status, 401, `${url} from ${remoteAddress}`);
          assert.doesNotMatch(refused.text, /listed"/);
        }
        const deleted = await send(app, {
          method: 'DELETE',
          url: '/api/v1/sessions/listed',
          remoteAddress,
        });
        assert.equal(deleted.status, 401);
      }
      assert.equal(await store.exists('listed'), true);
      const keyed = await send(app, { url: '/api/v1/chat/sessions', headers: asAdmin });
      assert.equal(keyed.status, 200);
      assert.ok(keyed.body.sessions.some((s: { session_id: string }) => s.session_id === 'listed'));
      assert.equal(keyed.body.total, keyed.body.sessions.length);
    });

    it('export every session as JSON lines, for import', async () => {
      await chat(app, { message: 'a torneira está pingando', session_id: 'exported' });
      const { status, headers, text } = await send(app, {
        url: '/api/v1/export/sessions',
        headers: asAdmin,
      });
      assert.equal(status, 200);
      assert.match(String(headers['content-type']), /application\/x-ndjson/);
      const lines = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const mine = lines.find((line) => line.session_id === 'exported');
      assert.equal(mine.ttl, 3600);
      assert.equal(mine.session.conversation_history.length, 2);
      assert.match(mine.session.token_sha256, /^[0-9a-f]{64}$/, 'the hash, never the token');
      assert.ok(!text.includes(clientOf(app).tokens.get('exported') ?? '?'));
      assert.equal((await send(app, { url: '/api/v1/export/sessions' })).status, 401);
    });

    it('turn a client without the key away before looking at its parameters', async () => {
      for (const url of ['/api/v1/chat/sessions?limit=abc', '/api/v1/sessions/a%20b']) {
        const { status } = await send(app, { url });
        assert.equal(status, 401, url);
      }
    });

    it('show a whole session with its TTL, and delete it', async () => {
      await chat(app, { message: 'a torneira está pingando', session_id: 'whole' });
      const { status, body } = await send(app, { url: '/api/v1/sessions/whole', headers: asAdmin });
      assert.equal(status, 200);
      assert.equal(body.session_id, 'whole');
      assert.equal(body.conversation_history.length, 2);
      assert.equal(body.ttl, 3600);
      assert.equal(body.version, 1, 'the first turn creates the session');
      const remove = { method: 'DELETE' as const, url: '/api/v1/sessions/whole', headers: asAdmin };
      assert.equal((await send(app, remove)).status, 204);
      assert.equal((await send(app, remove)).status, 404);
      assert.equal(
        (await send(app, { url: '/api/v1/sessions/whole', headers: asAdmin })).status,
        404,
      );
    });
  });
});

describe('HTTP API with ADMIN_API_KEY', () => {
  let app: FastifyInstance;
  before(async () => {
    ({ app } = await api({ ADMIN_API_KEY: ADMIN_KEY }));
    await chat(app, { message: 'a torneira está pingando', session_id: 'secret' });
  });
  after(async () => {
    await app.close();
  });

  it('needs the bearer key, from loopback too', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong-key',
      `Basic ${ADMIN_KEY}`,
      `Bearer ${ADMIN_KEY}x`,
      'Bearer ',
    ]) {
      const headers = authorization === undefined ? {} : { authorization };
      const { status, text } = await send(app, { url: '/api/v1/sessions/secret', headers });
      assert.equal(status, 401, String(authorization));
      assert.doesNotMatch(text, /torneira/);
    }
  });

  it('accepts the right key from anywhere', async () => {
    const { status, body } = await send(app, {
      url: '/api/v1/chat/sessions',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(status, 200);
    assert.deepEqual(
      body.sessions.map((s: { session_id: string }) => s.session_id),
      ['secret'],
    );
  });
});

describe('HTTP API limits and faults', () => {
  it('rate-limits the chat route per client', async () => {
    const { app } = await api({ RATE_LIMIT_PER_MINUTE: '3' });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await chat(app, { message: 'a torneira está pingando' })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await chat(app, { message: 'a torneira está pingando' });
    assert.match(limited.body.detail, /no máximo 3 por minuto\. Tente de novo em \d+ segundos?\./);
    assert.ok(limited.headers['retry-after']);
    const other = await chat(
      app,
      { message: 'a torneira está pingando' },
      { remoteAddress: '198.51.100.7' },
    );
    assert.equal(other.status, 200, 'another client has its own budget');
    assert.equal((await send(app, { url: '/health' })).status, 200, 'other routes are not limited');
    await app.close();
  });

  it('answers 500 without internals when a request fails unexpectedly, and keeps serving', async () => {
    const inner = await testResponder();
    let explode = true;
    const flaky: Responder = {
      name: 'flaky',
      solve: async (request) => {
        if (explode) throw new TypeError('secret internal detail at /srv/app.js:12');
        return inner.solve(request);
      },
    };
    const { app, logs } = await api({}, flaky);
    const failed = await chat(app, { message: 'a torneira está pingando', session_id: 'boom' });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.body, { detail: errors.internal });
    assert.ok(logs.records().some((r) => r.event_type === 'request_failed' && r.level === 'ERROR'));
    explode = false;
    const next = await chat(app, { message: 'a torneira está pingando', session_id: 'boom' });
    assert.equal(next.status, 200);
    assert.equal(next.body.metadata.current_attempt, 1, 'the failed turn left nothing behind');
    await app.close();
  });

  it('answers 413 when a session outgrows SESSION_MAX_BYTES, keeps it as it was, and reset recovers it', async () => {
    const { app, store } = await api({ SESSION_MAX_BYTES: '4096' });
    assert.equal(
      (await chat(app, { message: 'a porta está rangendo', session_id: 'big' })).status,
      200,
    );
    const before = await store.get('big');
    const big = await chat(app, { message: `não ${'muito '.repeat(600)}`, session_id: 'big' });
    assert.equal(big.status, 413);
    assert.equal(big.body.detail, errors.sessionTooLarge);
    assert.equal(await store.get('big'), before);
    assert.equal((await clientOf(app).reset('big')).status, 200);
    const fresh = await chat(app, {
      message: `a torneira está pingando ${'muito '.repeat(600)}`,
      session_id: 'new-big',
    });
    assert.equal(fresh.status, 413);
    assert.equal(await store.exists('new-big'), false, 'nothing written');
    await app.close();
  });

  it('answers 409 when a session keeps changing under the turn', async () => {
    class AlwaysNewer extends MemorySessionStore {
      override async setIf() {
        return { outcome: 'conflict' as const, storedVersion: 99 };
      }
    }
    const logs = captureLogs('info');
    const app = await createApi({
      config: testConfig({ RATE_LIMIT_PER_MINUTE: '0' }),
      logger: logs.logger,
      store: new AlwaysNewer(),
      responder: await testResponder(),
    });
    const { status, body } = await chat(app, {
      message: 'a torneira está pingando',
      session_id: 'busy',
    });
    assert.equal(status, 409);
    assert.equal(body.detail, errors.sessionConflict);
    await app.close();
  });

  it('says degraded when Redis was asked for but sessions live in memory', async () => {
    const { app } = await api({ USE_REDIS: 'true' });
    const { body } = await send(app, { url: '/health' });
    assert.equal(body.status, 'degraded');
    assert.equal(body.session_store.backend, 'memory');
    await app.close();
  });
});

describe('an export that fails part-way', () => {
  it('ends the response with an error, never as a complete file', async () => {
    const { app, store } = await testApi();
    const at = '2026-01-01T10:00:00.000Z';
    // Two pages of the store's listing; the second one fails.
    for (let i = 0; i < 600; i++) {
      const { json } = encodeSession(
        `s${i}`,
        {
          schema_version: 1,
          version: 1,
          state: 'new_problem',
          current_attempt: 0,
          max_attempts: 3,
          use_rag: true,
          use_web_search: true,
          created_at: at,
          updated_at: at,
          problem: null,
          conversation_history: [],
        },
        { maxHistoryMessages: 10, maxBytes: 65536 },
      );
      await store.set(`s${i}`, json, 600);
    }
    const list = store.list.bind(store);
    let pages = 0;
    store.list = async (options) => {
      if (++pages > 1) throw new Error('the store went away');
      return list(options);
    };
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/export/sessions`, {
        headers: asAdmin,
      });
      assert.equal(response.status, 200); // sent with the first lines
      await assert.rejects(response.text(), /terminated/);
      assert.equal(pages, 2);
    } finally {
      await app.close();
    }
  });
});
