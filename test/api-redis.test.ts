/** The API over a real Redis: what health and metrics say through a failover and under eviction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { redisTestOptions, startRedisServer } from './support/redis-server.js';

async function apiOn(url: string) {
  return createApi({
    config: testConfig({
      USE_REDIS: 'true',
      REDIS_URL: url,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      RATE_LIMIT_PER_MINUTE: '0',
    }),
    logger: captureLogs('info').logger,
    responder: await testResponder(),
  });
}

const health = async (app: FastifyInstance) => (await app.inject({ url: '/health' })).json();
const metrics = async (app: FastifyInstance) => (await app.inject({ url: '/metrics' })).body;
const chat = (app: FastifyInstance, message: string, session_id: string) =>
  app.inject({ method: 'POST', url: '/api/v1/chat/message', payload: { message, session_id } });

describe('API on Redis', redisTestOptions(), () => {
  it('keeps answering 200 when Redis dies: health degraded, gauge on memory; healthy again after', async () => {
    let server = await startRedisServer();
    const app = await apiOn(server.url());
    try {
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
      server = await server.restart({ downMs: 200 });
      const deadline = Date.now() + 15000;
      while ((await health(app)).status !== 'healthy' && Date.now() < deadline) await sleep(100);
      assert.equal((await health(app)).status, 'healthy');
      assert.match(await metrics(app), /session_store_events_total\{event="recovered"\} 1/);
    } finally {
      await app.close();
      await server.stop();
    }
  });

  it('moves a corrupt session aside and starts the conversation over', async () => {
    const server = await startRedisServer();
    const app = await apiOn(server.url());
    const raw = createClient({ url: server.url() });
    await raw.connect();
    try {
      await raw.set('cql:session:estragada', '{"schema_version":1,"version":', { EX: 600 });
      const reply = await chat(app, 'a torneira está pingando', 'estragada');
      assert.equal(reply.statusCode, 200);
      assert.equal(reply.json().metadata.current_attempt, 1);
      assert.equal(
        await raw.get('cql:session:corrupt:estragada'),
        '{"schema_version":1,"version":',
      );
      assert.match(await metrics(app), /session_events_total\{event="corrupt"\} 1/);
    } finally {
      await raw.close();
      await app.close();
      await server.stop();
    }
  });

  it('answers 503 when the only store is a Redis that died', async () => {
    const server = await startRedisServer();
    const app = await createApi({
      config: testConfig({ RATE_LIMIT_PER_MINUTE: '0' }),
      logger: captureLogs('info').logger,
      store: await RedisSessionStore.connect({ url: server.url(), commandTimeoutMs: 300 }),
      responder: await testResponder(),
    });
    try {
      server.signal('SIGKILL');
      const response = await chat(app, 'a torneira está pingando', 'no-store');
      assert.equal(response.statusCode, 503);
      assert.match(response.json().detail, /unavailable/);
    } finally {
      await app.close();
      await server.stop();
    }
  });

  it('reports evictions (allkeys-lru) in /health, from INFO', async () => {
    const server = await startRedisServer({
      args: ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    const app = await apiOn(server.url());
    const filler = createClient({ url: server.url() });
    await filler.connect();
    try {
      for (let i = 0; i < 400; i++) await filler.set(`filler:${i}`, 'x'.repeat(10_000));
      const after = await health(app);
      assert.equal(after.session_store.maxmemory_policy, 'allkeys-lru');
      assert.ok(after.session_store.evicted_keys > 0, JSON.stringify(after.session_store));
      assert.ok(after.session_store.used_memory_bytes > 0);
    } finally {
      await filler.close();
      await app.close();
      await server.stop();
    }
  });
});
