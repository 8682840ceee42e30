/**
 * Who may see a conversation, written as the attacks: a guessed session id, a forged
 * X-Forwarded-For, a reverse proxy on the same host, a client without the admin key, a
 * generated key that must never reach a log. Each asserts the refusal and that nothing was read,
 * changed or lost.
 */
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { ConfigError } from '../src/config.js';
import { encodeSession } from '../src/sessions/codec.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { errors } from '../src/texts/api.js';
import { httpClient, injectClient } from './support/chat.js';
import { captureLogs, configProblems, testConfig, testResponder } from './support/fixtures.js';
import { startProxy } from './support/tcp-proxy.js';
import { TEST_ADMIN_KEY, testApi } from './support/test-api.js';

const asAdmin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

describe('a guessed session id', () => {
  let app: FastifyInstance;
  let store: MemorySessionStore;
  before(async () => {
    ({ app, store } = await testApi());
  });
  after(async () => {
    await app.close();
  });

  it('does not let a stranger continue, read or reset a conversation', async () => {
    const owner = injectClient(app);
    const stranger = injectClient(app);
    const created = await owner.say('user-123', 'a torneira está pingando');
    assert.equal(created.status, 200);
    const token = owner.tokens.get('user-123');
    assert.ok(token && token.length >= 22);
    const before = await store.get('user-123');
    const stored = JSON.parse(before ?? '{}');
    assert.match(stored.token_sha256, /^[0-9a-f]{64}$/);
    assert.ok(!before?.includes(token), 'only the hash is stored');

    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-session-token': 'guessed' },
      { 'x-session-token': '' },
    ];
    for (const headers of attempts) {
      const message = await stranger.chat({ message: 'sim', session_id: 'user-123' }, { headers });
      assert.equal(message.status, 403, JSON.stringify(headers));
      assert.equal(message.body.detail, errors.sessionTokenRequired('user-123'));
      assert.match(message.body.detail, /X-Session-Token/);
      assert.match(message.body.detail, /SESSION_ACCESS=id/);
      assert.doesNotMatch(message.text, /torneira/);
      assert.equal(message.headers['x-session-token'], undefined);

      const history = await stranger.history('user-123', { headers });
      assert.equal(history.status, 404);
      assert.doesNotMatch(history.text, /torneira/);
      const reset = await stranger.reset('user-123', { headers });
      assert.equal(reset.status, 404);
    }
    assert.equal(await store.get('user-123'), before, 'nothing changed');

    // A reset of an unknown id and of someone else's id answer alike: no oracle.
    const unknown = await stranger.reset('never-created');
    const foreign = await stranger.reset('user-123');
    assert.equal(unknown.status, foreign.status);
    assert.deepEqual(
      unknown.body.detail.replace('never-created', 'X'),
      foreign.body.detail.replace('user-123', 'X'),
    );

    const next = await owner.say('user-123', 'não');
    assert.equal(next.status, 200, 'the owner goes on');
    assert.equal(next.body.metadata.current_attempt, 2);
    const history = await owner.history('user-123');
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.messages.map((m: { role: string }) => m.role),
      ['user', 'assistant', 'user', 'assistant'],
    );
    assert.equal(history.body.messages[0].content, 'a torneira está pingando');
    assert.equal(history.body.state, 'waiting_feedback');
    assert.equal(history.body.current_attempt, 2);
  });

  it('returns the token once: later answers do not repeat it', async () => {
    const owner = injectClient(app);
    const first = await owner.say('once', 'a pia está entupida');
    assert.equal(typeof first.body.session_token, 'string');
    const second = await owner.say('once', 'não');
    assert.equal(second.status, 200);
    assert.equal(second.body.session_token, undefined);
    assert.equal(second.headers['x-session-token'], undefined);
  });

  it('keeps a session stored without a token reachable by id until it is reset', async () => {
    const at = new Date().toISOString();
    const { json } = encodeSession(
      'legacy',
      {
        schema_version: 1,
        version: 3,
        state: 'waiting_feedback',
        current_attempt: 1,
        max_attempts: 3,
        use_rag: true,
        use_web_search: true,
        created_at: at,
        updated_at: at,
        problem: 'a torneira está pingando',
        conversation_history: [],
      },
      { maxHistoryMessages: 100, maxBytes: 65536 },
    );
    await store.set('legacy', json, 600);
    const anyone = injectClient(app);
    const answered = await anyone.say('legacy', 'não');
    assert.equal(answered.status, 200, 'reachable by id alone');
    assert.equal(answered.body.session_token, undefined, 'no token handed out by a message');
    assert.equal((await anyone.history('legacy')).status, 200);

    const reset = await anyone.reset('legacy');
    assert.equal(reset.status, 200);
    const token = reset.headers['x-session-token'];
    assert.equal(typeof token, 'string', 'the reset hands out a token');
    const other = injectClient(app);
    assert.equal((await other.say('legacy', 'a pia está entupida')).status, 403);
    assert.equal((await anyone.say('legacy', 'a pia está entupida')).status, 200);
  });

  it('rate-limits resets like messages', async () => {
    const { app: limited, client } = await testApi({ RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await client.reset('whatever')).status);
      assert.deepEqual(statuses, [404, 404, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('SESSION_ACCESS=id', () => {
  it('lets the id alone continue a conversation, and warns at start-up what that exposes', async () => {
    const { app, logs } = await testApi({ SESSION_ACCESS: 'id' });
    try {
      const warning = logs.records().find((r) => r.event_type === 'session_access_id');
      assert.equal(warning?.level, 'WARNING');
      assert.match(String(warning?.message), /adivinhar o id/);
      const owner = injectClient(app);
      const other = injectClient(app);
      const created = await owner.say('shared', 'a torneira está pingando');
      assert.equal(typeof created.body.session_token, 'string', 'tokens are still issued');
      const continued = await other.say('shared', 'não');
      assert.equal(continued.status, 200);
      assert.equal(continued.body.metadata.current_attempt, 2);
    } finally {
      await app.close();
    }
  });

  it('never reaches the sessions of the OpenAI-compatible endpoint (oai-...) from the chat API', async () => {
    const { app, store } = await testApi({ SESSION_ACCESS: 'id' });
    try {
      const client = injectClient(app);
      const id = 'oai-0123456789abcdef0123456789abcdef01234567';
      const message = await client.say(id, 'a torneira está pingando');
      assert.equal(message.status, 403);
      assert.equal((await client.reset(id)).status, 404);
      assert.equal((await client.history(id)).status, 404);
      assert.equal(await store.exists(id), false);
    } finally {
      await app.close();
    }
  });

  it('refuses anything but token or id', () => {
    assert.match(
      configProblems({ SESSION_ACCESS: 'none' }),
      /SESSION_ACCESS deve ser token ou id \(recebido "none"\)/,
    );
  });
});

describe('admin access no header or address can forge', () => {
  it('refuses TRUST_PROXY=true and hop counts: name the proxies', () => {
    for (const value of ['true', 'yes', '1', '2', '*', '300.1.1.1', '10.0.0.0/33']) {
      assert.match(
        configProblems({ TRUST_PROXY: value }),
        /TRUST_PROXY deve ser false ou uma lista, separada por vírgulas, dos endereços ou CIDRs dos proxies/,
      );
    }
    const config = testConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,loopback' });
    assert.deepEqual(config.api.trustProxy, ['127.0.0.1', '10.0.0.0/8', 'loopback']);
  });

  it('a forged X-Forwarded-For: 127.0.0.1 through a trusted proxy reads nothing', async () => {
    const { app } = await testApi({ TRUST_PROXY: '127.0.0.1' });
    try {
      await injectClient(app).say('victim', 'a torneira está pingando');
      for (const headers of [
        { 'x-forwarded-for': '127.0.0.1' },
        { 'x-forwarded-for': '127.0.0.1, 127.0.0.1' },
        { forwarded: 'for=127.0.0.1' },
        { host: 'localhost' },
      ]) {
        for (const [method, url] of [
          ['GET', '/api/v1/export/sessions'],
          ['GET', '/api/v1/chat/sessions'],
          ['GET', '/api/v1/sessions/victim'],
          ['DELETE', '/api/v1/sessions/victim'],
        ] as const) {
          const response = await app.inject({ method, url, headers, remoteAddress: '127.0.0.1' });
          assert.equal(response.statusCode, 401, `${method} ${url} ${JSON.stringify(headers)}`);
          assert.doesNotMatch(response.body, /torneira|victim"/);
        }
      }
      const still = await app.inject({ url: '/api/v1/sessions/victim', headers: asAdmin });
      assert.equal(still.statusCode, 200, 'nothing was deleted');
    } finally {
      await app.close();
    }
  });

  it('a changing X-Forwarded-For does not buy more requests', async () => {
    const { app } = await testApi({ TRUST_PROXY: '10.0.0.1', RATE_LIMIT_PER_MINUTE: '5' });
    try {
      let through = 0;
      for (let i = 0; i < 40; i++) {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/chat/message',
          payload: { message: 'a torneira está pingando' },
          headers: { 'x-forwarded-for': `198.51.100.${i}` },
          // Not the trusted proxy: its X-Forwarded-For is ignored.
          remoteAddress: '203.0.113.9',
        });
        if (response.statusCode === 200) through++;
      }
      assert.equal(through, 5);
      // Through the trusted proxy, each real client has its own budget.
      const proxied = await app.inject({
        method: 'POST',
        url: '/api/v1/chat/message',
        payload: { message: 'a torneira está pingando' },
        headers: { 'x-forwarded-for': '198.51.100.77' },
        remoteAddress: '10.0.0.1',
      });
      assert.equal(proxied.statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('a reverse proxy on the same host does not open admin routes', async () => {
    const { app } = await testApi();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const proxy = await startProxy((app.server.address() as AddressInfo).port);
    try {
      const through = httpClient(`http://127.0.0.1:${proxy.port}`);
      const created = await through.say('behind-proxy', 'a torneira está pingando');
      assert.equal(created.status, 200);
      for (const url of ['/api/v1/chat/sessions', '/api/v1/sessions/behind-proxy']) {
        const refused = await through.send({ method: 'GET', url });
        assert.equal(refused.status, 401, url);
        assert.doesNotMatch(refused.text, /torneira/);
      }
      const keyed = await through.send({
        method: 'GET',
        url: '/api/v1/chat/sessions',
        headers: asAdmin,
      });
      assert.equal(keyed.status, 200);
    } finally {
      await proxy.close();
      await app.close();
    }
  });

  it('protects /metrics with METRICS_API_KEY when set, the admin key opening it too', async () => {
    const metricsKey = 'a-long-metrics-key-1234';
    const { app } = await testApi({ METRICS_API_KEY: metricsKey });
    try {
      assert.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
      for (const key of [metricsKey, TEST_ADMIN_KEY]) {
        const response = await app.inject({
          url: '/metrics',
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(response.statusCode, 200);
        assert.match(response.body, /http_requests_total/);
      }
    } finally {
      await app.close();
    }
    const { app: open } = await testApi();
    try {
      assert.equal((await open.inject({ url: '/metrics' })).statusCode, 200, 'public by default');
    } finally {
      await open.close();
    }
  });
});

describe('the generated admin key', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cql-admin-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (file: string) => {
    const logs = captureLogs('debug');
    const app = await createApi({
      config: testConfig({ ADMIN_API_KEY_FILE: file, RATE_LIMIT_PER_MINUTE: '0' }),
      logger: logs.logger,
      store: new MemorySessionStore(),
      responder: await testResponder(),
    });
    return { app, logs };
  };

  it('is made at start-up, kept 0600, named in the log but never written there, and reused', async () => {
    const file = join(dir, 'state', 'admin-api-key');
    const { app, logs } = await start(file);
    let key = '';
    try {
      const info = await lstat(file);
      assert.equal(info.mode & 0o777, 0o600);
      key = (await readFile(file, 'utf8')).trim();
      assert.ok(key.length >= 32);
      assert.ok(
        logs.lines.some((line) => line.includes(file)),
        'the log names the file',
      );
      for (const line of logs.lines) assert.ok(!line.includes(key), `no key in: ${line}`);
      const opened = await app.inject({
        url: '/api/v1/chat/sessions',
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(opened.statusCode, 200);
      assert.equal((await app.inject({ url: '/api/v1/chat/sessions' })).statusCode, 401);
    } finally {
      await app.close();
    }
    const again = await start(file);
    try {
      assert.equal((await readFile(file, 'utf8')).trim(), key, 'reused while the file exists');
      for (const line of again.logs.lines) assert.ok(!line.includes(key));
    } finally {
      await again.app.close();
    }
  });

  it('refuses a key file that is a symlink or readable by others', async () => {
    const target = join(dir, 'elsewhere');
    await writeFile(target, 'a-key-someone-else-chose-123456', { mode: 0o600 });
    const link = join(dir, 'linked-key');
    await symlink(target, link);
    await assert.rejects(start(link), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /ADMIN_API_KEY_FILE ".*linked-key" existe e não é um arquivo comum/,
      );
      return true;
    });
    const open = join(dir, 'open-key');
    await writeFile(open, 'a-key-anyone-can-read-123456', { mode: 0o644 });
    await assert.rejects(
      start(open),
      /ADMIN_API_KEY_FILE ".*open-key" pode ser lido por outros usuários \(permissões 644\): execute chmod 600 nele/,
    );
  });
});
