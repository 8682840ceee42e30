/** The API over a real Redis: what health and metrics say through a failover and under eviction. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type RedisClientType } from '@redis/client';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { type ChatClient, injectClient } from './support/chat.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

/** Long enough that a busy machine never looks like a Redis outage; a killed Redis fails its
 * commands at once anyway. */
const COMMAND_TIMEOUT_MS = 2000;

async function apiOn(url: string) {
  return createApi({
    config: testConfig({
      USE_REDIS: 'true',
      REDIS_URL: url,
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: '0',
    }),
    logger: captureLogs('info').logger,
    responder: await testResponder(),
  });
}

const health = async (app: FastifyInstance) => (await app.inject({ url: '/health' })).json();
const metrics = async (app: FastifyInstance) => (await app.inject({ url: '/metrics' })).body;
/** One client per app under test: it keeps the sessions' tokens. */
const clients = new WeakMap<FastifyInstance, ChatClient>();
const chat = async (app: FastifyInstance, message: string, session_id: string) => {
  let client = clients.get(app);
  if (!client) {
    client = injectClient(app);
    clients.set(app, client);
  }
  const answer = await client.chat({ message, session_id });
  return { statusCode: answer.status, json: () => answer.body };
};

describe('API on Redis', redisTestOptions(), () => {
  describe('through a failover', () => {
    let server: RedisServer;
    let app: FastifyInstance;
    before(async () => {
      server = await startRedisServer();
      app = await apiOn(server.url());
    });
    after(async () => {
      await app?.close();
      await server?.stop();
    });

    it('keeps answering 200 when Redis dies: health degraded, gauge on memory; healthy again after', async () => {
      assert.equal((await health(app)).status, 'healthy');
      assert.match(await metrics(app), /session_store_backend\{backend="redis"\} 1/);
      assert.equal((await chat(app, 'a torneira está pingando', 'api-failover')).statusCode, 200);
      server.signal('SIGKILL');
      const during = await chat(app, 'não', 'api-failover');
      assert.equal(during.statusCode, 200);
      assert.equal(during.json().metadata.current_attempt, 2);
      const degraded = await health(app);
      assert.equal(degraded.status, 'degraded');
      assert.deepEqual(degraded.session_store, { backend: 'memory', connected: false });
      const text = await metrics(app);
      assert.match(text, /session_store_backend\{backend="memory"\} 1/);
      assert.match(text, /session_store_events_total\{event="unavailable"\} 1/);
      // The same port and folder: the restart is what is under test.
      server = await server.restart();
      await until(async () => (await health(app)).status === 'healthy', 'healthy again');
      assert.match(await metrics(app), /session_store_events_total\{event="recovered"\} 1/);
    });
  });

  describe('with a corrupt session', () => {
    let server: RedisServer;
    let app: FastifyInstance;
    let raw: RedisClientType;
    before(async () => {
      server = await startRedisServer();
      app = await apiOn(server.url());
      raw = createClient({ url: server.url() });
      await raw.connect();
    });
    after(async () => {
      await raw?.close();
      await app?.close();
      await server?.stop();
    });

    it('moves a corrupt session aside and starts the conversation over', async () => {
      await raw.set('cql:session:estragada', '{"schema_version":1,"version":', { EX: 600 });
      const reply = await chat(app, 'a torneira está pingando', 'estragada');
      assert.equal(reply.statusCode, 200);
      assert.equal(reply.json().metadata.current_attempt, 1);
      assert.equal(
        await raw.get('cql:session:corrupt:{cql:session:estragada}'),
        '{"schema_version":1,"version":',
      );
      assert.match(await metrics(app), /session_events_total\{event="corrupt"\} 1/);
    });
  });

  describe('with Redis as the only store', () => {
    let server: RedisServer;
    let app: FastifyInstance;
    before(async () => {
      server = await startRedisServer();
      app = await createApi({
        config: testConfig({ RATE_LIMIT_PER_MINUTE: '0' }),
        logger: captureLogs('info').logger,
        store: await RedisSessionStore.connect({
          url: server.url(),
          commandTimeoutMs: COMMAND_TIMEOUT_MS,
        }),
        responder: await testResponder(),
      });
    });
    after(async () => {
      await app?.close();
      await server?.stop();
    });

    it('answers 503 when the only store is a Redis that died', async () => {
      server.signal('SIGKILL');
      const response = await chat(app, 'a torneira está pingando', 'no-store');
      assert.equal(response.statusCode, 503);
      assert.match(response.json().detail, /indisponível/);
    });
  });

  describe('with allkeys-lru', () => {
    let server: RedisServer;
    let app: FastifyInstance;
    let filler: RedisClientType;
    before(async () => {
      server = await startRedisServer({
        args: ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru'],
      });
      app = await apiOn(server.url());
      filler = createClient({ url: server.url() });
      await filler.connect();
    });
    after(async () => {
      await filler?.close();
      await app?.close();
      await server?.stop();
    });

    it('reports evictions in /health, from INFO', async () => {
      for (let i = 0; i < 400; i++) await filler.set(`filler:${i}`, 'x'.repeat(10_000));
      const after = await health(app);
      assert.equal(after.session_store.maxmemory_policy, 'allkeys-lru');
      assert.ok(after.session_store.evicted_keys > 0, JSON.stringify(after.session_store));
      assert.ok(after.session_store.used_memory_bytes > 0);
    });
  });
});
