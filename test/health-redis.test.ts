/**
 * /health against a Redis that answers but refuses: full (maxmemory with noeviction, OOM on
 * every write) or an ACL user without a command the store needs, found at start-up (ACL
 * DRYRUN) or at the first refusal. Each is `degraded` with a machine-readable reason while it
 * lasts and `healthy` again once Redis accepts; a working server is `healthy`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type RedisClientType } from '@redis/client';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { type ChatClient, injectClient } from './support/chat.js';
import { type CapturedLogs, captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

/** The API over the configured store (Redis with failover to memory) at `url`. */
async function apiOn(url: string, env: Record<string, string> = {}) {
  const logs = captureLogs('info');
  const app = await createApi({
    config: testConfig({
      USE_REDIS: 'true',
      REDIS_URL: url,
      // Refusals come at once; a busy machine must not look like a Redis that stopped answering.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    }),
    logger: logs.logger,
    responder: await testResponder(),
  });
  return { app, logs, client: injectClient(app) };
}

async function health(app: FastifyInstance) {
  const response = await app.inject({ url: '/health' });
  assert.equal(response.statusCode, 200, 'degraded is still HTTP 200');
  return response.json();
}

const admin = async (server: RedisServer, password?: string) => {
  const client = createClient({ url: server.url(), ...(password && { password }) });
  await client.connect();
  return client;
};

/** An API, its chat client and its logs, made in before(). */
interface Api {
  app: FastifyInstance;
  client: ChatClient;
  logs: CapturedLogs;
}

describe('/health on a Redis that refuses', redisTestOptions(), () => {
  describe('a working server', () => {
    let server: RedisServer;
    let api: Api;
    before(async () => {
      server = await startRedisServer();
      api = await apiOn(server.url());
    });
    after(async () => {
      await api?.app.close();
      await server?.stop();
    });

    it('is healthy on a working server, with no reason given', async () => {
      assert.equal((await api.client.say('saudavel', 'a torneira está pingando')).status, 200);
      const body = await health(api.app);
      assert.equal(body.status, 'healthy');
      assert.equal(body.session_store.backend, 'redis');
      assert.equal(body.session_store.degraded_reason, undefined);
      assert.equal(body.session_store.degraded_detail, undefined);
    });
  });

  describe('a full server', () => {
    let server: RedisServer;
    let api: Api;
    let filler: RedisClientType;
    before(async () => {
      server = await startRedisServer();
      api = await apiOn(server.url());
      filler = await admin(server);
    });
    after(async () => {
      await filler?.close();
      await api?.app.close();
      await server?.stop();
    });

    it('is degraded (redis_oom) while a full Redis refuses writes, healthy once it takes them', async () => {
      const { app, client } = api;
      assert.equal((await client.say('antes', 'a torneira está pingando')).status, 200);
      assert.equal((await health(app)).status, 'healthy');
      // Data fills Redis past a maxmemory with noeviction: every write that needs memory fails.
      for (let i = 0; i < 20; i++) await filler.set(`filler:${i}`, 'x'.repeat(100_000));
      const used = Number(/^used_memory:(\d+)/m.exec(await filler.info('memory'))?.[1]);
      const maxmemory = String(used - 2 ** 18);
      await filler.configSet({ 'maxmemory-policy': 'noeviction', maxmemory });
      await assert.rejects(filler.set('one-more', 'x'), /OOM/);

      // The turn is answered (from memory), and /health says why Redis is not enough.
      assert.equal((await client.say('cheia', 'a pia está entupida')).status, 200);
      const full = await health(app);
      assert.equal(full.status, 'degraded');
      assert.equal(full.session_store.backend, 'redis');
      assert.equal(full.session_store.connected, true);
      assert.equal(full.session_store.degraded_reason, 'redis_oom');
      assert.match(full.session_store.degraded_detail, /OOM/);
      assert.equal(await filler.exists('cql:session:cheia'), 0, 'Redis refused it');

      for (let i = 0; i < 20; i++) await filler.unlink(`filler:${i}`);
      await until(async () => (await health(app)).status === 'healthy', 'healthy after room');
      const after = await health(app);
      assert.equal(after.session_store.degraded_reason, undefined);
      assert.equal(await filler.exists('cql:session:cheia'), 1, 'written back once Redis had room');
    });
  });

  describe('a user without EVALSHA and SET', () => {
    let server: RedisServer;
    let api: Api;
    let root: RedisClientType;
    before(async () => {
      server = await startRedisServer({
        aclUsers: [
          'default on >admin-pw ~* &* +@all',
          // Allowed to ask ACL DRYRUN (+@all), but not to run two of the store's commands.
          'sessions on >s3nha ~cql:* +@all -evalsha -set',
        ],
      });
      api = await apiOn(`redis://sessions:s3nha@127.0.0.1:${server.port}/0`);
      root = await admin(server, 'admin-pw');
    });
    after(async () => {
      await root?.close();
      await api?.app.close();
      await server?.stop();
    });

    it('is degraded (redis_noperm) from start-up when the ACL user lacks EVALSHA and SET', async () => {
      const { app, client, logs } = api;
      const before = await health(app);
      assert.equal(before.status, 'degraded', 'before any request');
      assert.equal(before.session_store.backend, 'redis');
      assert.equal(before.session_store.degraded_reason, 'redis_noperm');
      assert.match(before.session_store.degraded_detail, /evalsha/);
      assert.match(before.session_store.degraded_detail, /\bset\b/);
      const warning = logs.records().find((r) => r.event_type === 'redis_permissions_missing');
      assert.deepEqual(warning?.missing, ['evalsha', 'set']);
      // Requests still succeed (from memory), and the reason stays in view.
      assert.equal((await client.say('sem-permissao', 'o chuveiro não esquenta')).status, 200);
      const during = await health(app);
      assert.equal(during.status, 'degraded');
      assert.equal(during.session_store.degraded_reason, 'redis_noperm');
      // Fixed by the operator: the session is written to Redis and the reason goes.
      await root.sendCommand(['ACL', 'SETUSER', 'sessions', '+evalsha', '+set']);
      await until(async () => (await health(app)).status === 'healthy', 'healthy after the fix');
      assert.equal(await root.exists('cql:session:sem-permissao'), 1);
    });
  });

  describe('a user who may not ask ACL DRYRUN', () => {
    let server: RedisServer;
    let app: FastifyInstance;
    let client: ChatClient;
    let root: RedisClientType;
    before(async () => {
      server = await startRedisServer({
        aclUsers: [
          'default on >admin-pw ~* &* +@all',
          // No @admin, so no ACL DRYRUN: the start-up check cannot run; and no SET.
          'limited on >s3nha ~cql:* +@all -@admin -set',
        ],
      });
      const store = await RedisSessionStore.connect({
        url: `redis://limited:s3nha@127.0.0.1:${server.port}/0`,
        statusMaxAgeMs: 0,
        commandTimeoutMs: 5000,
      });
      app = await createApi({
        config: testConfig({ RATE_LIMIT_PER_MINUTE: '0' }),
        logger: captureLogs('info').logger,
        store,
        responder: await testResponder(),
      });
      client = injectClient(app);
      root = await admin(server, 'admin-pw');
    });
    after(async () => {
      await root?.close();
      await app?.close();
      await server?.stop();
    });

    it('is degraded (redis_noperm) at the first refusal when the user may not ask ACL DRYRUN', async () => {
      assert.equal((await health(app)).status, 'healthy', 'nothing refused yet, nothing known');
      // Only Redis, no memory to fall back to: the save fails (503), and says why in /health.
      assert.equal((await client.say('recusada', 'a porta está rangendo')).status, 503);
      const refused = await health(app);
      assert.equal(refused.status, 'degraded');
      assert.equal(refused.session_store.degraded_reason, 'redis_noperm');
      assert.match(refused.session_store.degraded_detail, /can't run this command|'set'/);
      await root.sendCommand(['ACL', 'SETUSER', 'limited', '+set']);
      assert.equal((await client.say('recusada', 'a porta está rangendo')).status, 200);
      assert.equal((await health(app)).status, 'healthy', 'the next success clears it');
    });
  });
});
