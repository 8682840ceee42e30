/**
 * What the original web app (React + axios, on Vite's 5173 or its README's 5001) needs from the
 * server: CORS preflights for its calls, 422 with the original's body for invalid input, and a
 * Portuguese `detail` string on every error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { DEFAULT_CORS_ORIGINS } from '../src/config.js';
import type { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { errors, validation } from '../src/texts/api.js';
import type { ChatClient } from './support/chat.js';
import { testApi } from './support/test-api.js';

const ADMIN_KEY = 'a-long-admin-key-for-tests';

/** The calls the original app's pages and API client make, with the headers axios adds. */
const ORIGINAL_CALLS = [
  { method: 'POST', url: '/api/v1/chat/message', headers: 'content-type' },
  { method: 'GET', url: '/health', headers: '' },
  { method: 'DELETE', url: '/api/v1/chat/reset/user-123', headers: '' },
  { method: 'GET', url: '/api/v1/chat/sessions', headers: 'authorization' },
  { method: 'DELETE', url: '/api/v1/chat/reset/user-123', headers: 'x-session-token' },
] as const;

describe('the original web app against this server', () => {
  let app: FastifyInstance;
  let store: MemorySessionStore;
  let client: ChatClient;
  before(async () => {
    ({ app, store, client } = await testApi({ ADMIN_API_KEY: ADMIN_KEY }));
  });
  after(async () => {
    await app.close();
  });

  const send = async (options: InjectOptions) => {
    const response = await app.inject(options);
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  };
  const chat = (payload: unknown) => client.chat(payload);

  describe('CORS', () => {
    it('allows every default origin: localhost and 127.0.0.1 on 5173 and 5001', () => {
      assert.deepEqual(
        [...DEFAULT_CORS_ORIGINS],
        [
          'http://localhost:5173',
          'http://127.0.0.1:5173',
          'http://localhost:5001',
          'http://127.0.0.1:5001',
        ],
      );
    });

    for (const origin of DEFAULT_CORS_ORIGINS) {
      it(`answers the browser's preflight from ${origin} for every call the app makes`, async () => {
        for (const call of ORIGINAL_CALLS) {
          const preflight = await app.inject({
            method: 'OPTIONS',
            url: call.url,
            headers: {
              origin,
              'access-control-request-method': call.method,
              ...(call.headers && { 'access-control-request-headers': call.headers }),
            },
          });
          const what = `${call.method} ${call.url} from ${origin}`;
          assert.equal(preflight.statusCode, 204, what);
          assert.equal(preflight.headers['access-control-allow-origin'], origin, what);
          const methods = String(preflight.headers['access-control-allow-methods']).split(/, */);
          assert.ok(methods.includes(call.method), `${what}: ${methods}`);
          const allowed = String(preflight.headers['access-control-allow-headers'])
            .toLowerCase()
            .split(/, */);
          for (const header of ['content-type', 'authorization', 'x-session-token']) {
            assert.ok(allowed.includes(header), `${what} allows ${header}: ${allowed}`);
          }
        }
      });
    }

    it('exposes the rate-limit headers, Retry-After and X-Session-Token to the page', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/chat/message',
        headers: { origin: 'http://localhost:5001' },
        payload: { message: 'a torneira está pingando', session_id: 'cors-exposed' },
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['access-control-allow-origin'], 'http://localhost:5001');
      const exposed = String(response.headers['access-control-expose-headers'])
        .toLowerCase()
        .split(/, */);
      for (const header of [
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
        'retry-after',
        'x-session-token',
      ]) {
        assert.ok(exposed.includes(header), `${header} in ${exposed}`);
      }
    });

    it('gives no CORS permission to another origin', async () => {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/chat/reset/user-123',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'DELETE' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('invalid input: 422 with the original body', () => {
    it('refuses a 4,097-character message, names the 4096 limit, and writes nothing', async () => {
      const before = store.size;
      const { status, body } = await chat({ message: 'x'.repeat(4097), session_id: 'too-long' });
      assert.equal(status, 422);
      assert.deepEqual(body, {
        error: 'Dados inválidos',
        detail: 'A mensagem deve ter no máximo 4096 caracteres.',
        errors: [
          {
            field: 'message',
            message: 'A mensagem deve ter no máximo 4096 caracteres.',
            type: 'string_too_long',
          },
        ],
      });
      assert.equal(store.size, before);
      assert.equal(await store.exists('too-long'), false);
    });

    it('takes a 4,096-character message', async () => {
      const { status } = await chat({ message: 'a'.repeat(4096), session_id: 'at-limit' });
      assert.equal(status, 200);
    });

    it('names each broken rule in a sentence, with a machine-readable type', async () => {
      const cases: Array<[unknown, string, string, string]> = [
        [{}, 'message', 'missing', validation.required('message')],
        [{ message: '   ' }, 'message', 'string_too_short', 'A mensagem não pode ficar em branco.'],
        [{ message: '?!...' }, 'message', 'value_error', validation.noLetterOrDigit],
        [{ message: 'a\u0000b' }, 'message', 'value_error', validation.nulCharacter],
        [{ message: 42 }, 'message', 'string_type', 'A mensagem deve ser um texto.'],
        [
          { message: 'oi', session_id: '../etc' },
          'session_id',
          'string_pattern_mismatch',
          validation.sessionIdPattern,
        ],
        [
          { message: 'oi', use_rag: 'yes' },
          'use_rag',
          'bool_type',
          'O campo use_rag deve ser true ou false.',
        ],
        [
          { message: 'oi', admin: true },
          'admin',
          'extra_forbidden',
          validation.unknownField('admin'),
        ],
      ];
      for (const [payload, field, type, message] of cases) {
        const { status, body } = await chat(payload);
        assert.equal(status, 422, JSON.stringify(payload));
        assert.equal(body.error, 'Dados inválidos');
        assert.deepEqual(body.errors, [{ field, message, type }], JSON.stringify(payload));
        assert.equal(body.detail, message);
      }
    });

    it('says which key is not allowed when a body holds __proto__ or constructor', async () => {
      for (const [text, key] of [
        ['{"message": "oi", "__proto__": {"admin": true}}', '__proto__'],
        ['{"message": "oi", "\\u005f_proto__": {}}', '__proto__'],
        ['{"message": "oi", "constructor": {"prototype": {}}}', 'constructor'],
      ] as const) {
        const { status, body } = await send({
          method: 'POST',
          url: '/api/v1/chat/message',
          headers: { 'content-type': 'application/json' },
          payload: text,
        });
        assert.equal(status, 422, text);
        assert.equal(body.detail, validation.forbiddenKey(key));
        assert.equal(body.errors[0].field, key);
      }
    });

    it('says where malformed JSON breaks', async () => {
      const { status, body } = await send({
        method: 'POST',
        url: '/api/v1/chat/message',
        headers: { 'content-type': 'application/json' },
        payload: '{"message": "oi",',
      });
      assert.equal(status, 422);
      assert.match(body.detail, /^O corpo da requisição não é um JSON válido/);
      assert.equal(body.errors[0].type, 'json_invalid');
    });
  });

  describe('other errors keep their status with a Portuguese detail', () => {
    it('404 for the reset of an unknown session', async () => {
      const { status, body } = await send({
        method: 'DELETE',
        url: '/api/v1/chat/reset/nunca-vista',
      });
      assert.equal(status, 404);
      assert.equal(body.detail, errors.sessionNotFound('nunca-vista'));
      assert.equal(await store.exists('nunca-vista'), false);
    });

    it('404 for an unknown route, 401 for an admin route without the key', async () => {
      const route = await send({ url: '/api/v1/nada' });
      assert.equal(route.status, 404);
      assert.equal(route.body.detail, 'Não existe a rota GET /api/v1/nada.');
      const admin = await send({ url: '/api/v1/chat/sessions' });
      assert.equal(admin.status, 401);
      assert.equal(admin.body.detail, errors.adminKeyRequired);
    });
  });

  describe('metadata and documents', () => {
    it('reports relevance_score from 0 to 1, and null when the knowledge base was not used', async () => {
      const rag = await chat({ message: 'a torneira está pingando', session_id: 'relevance' });
      const score = rag.body.metadata.relevance_score;
      assert.equal(typeof score, 'number');
      assert.ok(score > 0 && score <= 1, String(score));
      // "sim" gets a fixed reply: no guide was searched.
      const fixed = await chat({ message: 'sim', session_id: 'relevance' });
      assert.equal(fixed.body.state, 'resolved');
      assert.equal(fixed.body.metadata.relevance_score, null);
    });

    it('serves the OpenAPI document at /api/v1/openapi.json as the original did', async () => {
      const original = await send({ url: '/api/v1/openapi.json' });
      const ours = await send({ url: '/openapi.json' });
      assert.equal(original.status, 200);
      assert.deepEqual(original.body, ours.body);
      assert.ok(original.body.paths['/api/v1/chat/message']);
    });
  });
});
