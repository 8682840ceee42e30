/**
 * The console's admin routes: the store's status, the outcomes of conversations (counted in
 * memory, and in Redis where several instances add to the same counts), the listing's pages and
 * filters, and extending a session's TTL. All refuse a client without the admin key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { countedFields, MemoryCounters, OutcomeCounter } from '../src/sessions/outcomes.js';
import type { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { injectClient } from './support/chat.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { TEST_ADMIN_KEY, testApi } from './support/test-api.js';
import { until } from './support/until.js';

const asAdmin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

/** Three problems: one resolved, one sent to a professional, one still open. */
async function threeProblems(app: FastifyInstance): Promise<number> {
  const client = injectClient(app);
  const turns: Array<[string, string]> = [
    ['resolvido', 'a torneira está pingando'],
    ['resolvido', 'sim'],
    ['profissional', 'o disjuntor cai toda hora'],
    ['profissional', 'não'],
    ['profissional', 'não'],
    ['profissional', 'não'],
    ['aberto', 'a torneira está pingando'],
  ];
  for (const [id, message] of turns) {
    assert.equal((await client.say(id, message)).status, 200);
  }
  return turns.length;
}

describe('admin routes of the console', () => {
  let app: FastifyInstance;
  let store: MemorySessionStore;
  let turns = 0;
  before(async () => {
    ({ app, store } = await testApi());
    turns = await threeProblems(app);
  });
  after(async () => {
    await app.close();
  });

  it('refuse a client without the admin key', async () => {
    for (const url of ['/api/v1/admin/store', '/api/v1/admin/outcomes']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 401, url);
    }
    const ttl = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions/aberto/ttl',
      payload: { ttl_seconds: 5 },
    });
    assert.equal(ttl.statusCode, 401);
  });

  it('report where the store stands', async () => {
    const response = await app.inject({ url: '/api/v1/admin/store', headers: asAdmin });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.backend, 'memory');
    assert.equal(body.connected, true);
    assert.equal(body.on_memory_since, null);
    assert.equal(body.pending_writebacks, 0);
    assert.equal(body.degraded_reason, null);
  });

  it('count resolved, sent to a professional and open problems, in all and by topic', async () => {
    const response = await app.inject({ url: '/api/v1/admin/outcomes', headers: asAdmin });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual(body.totals, { resolved: 1, max_attempts: 1, open: 1 });
    const tap = body.by_topic.find((row: { topic: string }) => row.topic === 'torneira-pingando');
    assert.deepEqual(tap, { topic: 'torneira-pingando', resolved: 1, max_attempts: 0, open: 1 });
    assert.equal(body.by_topic.length, 2);
    assert.equal(body.turns_per_minute.length, 60);
    const counted = body.turns_per_minute.reduce(
      (sum: number, point: { turns: number }) => sum + point.turns,
      0,
    );
    assert.equal(counted, turns);
    const minutes = body.turns_per_minute.map((point: { minute: string }) => point.minute);
    assert.deepEqual(minutes, [...minutes].sort(), 'oldest first');
  });

  it('give a session a new TTL without touching its conversation', async () => {
    const before = JSON.parse((await store.get('aberto')) ?? '{}');
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions/aberto/ttl',
      headers: asAdmin,
      payload: { ttl_seconds: 120 },
    });
    assert.equal(response.statusCode, 200);
    const { ttl } = response.json();
    assert.ok(ttl > 0 && ttl <= 120, String(ttl));
    assert.equal(await store.ttl('aberto'), ttl);
    const after = JSON.parse((await store.get('aberto')) ?? '{}');
    assert.deepEqual(after.conversation_history, before.conversation_history);
    assert.equal(after.state, before.state);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions/nunca/ttl',
      headers: asAdmin,
      payload: { ttl_seconds: 120 },
    });
    assert.equal(unknown.statusCode, 404);
    for (const ttl_seconds of [0, 31536001, 'x']) {
      const bad = await app.inject({
        method: 'POST',
        url: '/api/v1/sessions/aberto/ttl',
        headers: asAdmin,
        payload: { ttl_seconds },
      });
      assert.equal(bad.statusCode, 422, String(ttl_seconds));
    }
  });

  it('page through the listing with its cursor, filtered by state and id prefix', async () => {
    const client = injectClient(app);
    for (let i = 0; i < 7; i++) await client.say(`pagina-${i}`, 'a pia está entupida');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=3&prefix=pagina-${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await app.inject({
        url: `/api/v1/chat/sessions?${query}`,
        headers: asAdmin,
      });
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.ok(body.sessions.length <= 3);
      assert.equal(body.total, body.sessions.length);
      seen.push(...body.sessions.map((s: { session_id: string }) => s.session_id));
      cursor = body.cursor;
      pages++;
    } while (cursor !== null && pages < 20);
    assert.deepEqual(
      [...new Set(seen)].sort(),
      Array.from({ length: 7 }, (_, i) => `pagina-${i}`),
    );
    const resolved = await app.inject({
      url: '/api/v1/chat/sessions?state=resolved',
      headers: asAdmin,
    });
    assert.deepEqual(
      resolved.json().sessions.map((s: { session_id: string }) => s.session_id),
      ['resolvido'],
    );
    const row = resolved.json().sessions[0];
    assert.ok(!Number.isNaN(Date.parse(row.updated_at)));
    assert.equal(row.size_bytes, Buffer.byteLength((await store.get('resolvido')) ?? ''));
  });
});

describe('outcome counting', () => {
  it('counts a problem started at its first answer, and resolved or exhausted from feedback', () => {
    const at = new Date('2026-11-30T10:15:30Z');
    assert.deepEqual(
      countedFields({ previousState: 'new_problem', state: 'waiting_feedback', topic: 'pia' }, at),
      ['turns|10:15', 'started|pia'],
    );
    assert.deepEqual(
      countedFields({ previousState: 'waiting_feedback', state: 'resolved', topic: 'pia' }, at),
      ['turns|10:15', 'resolved|pia'],
    );
    assert.deepEqual(
      countedFields(
        { previousState: 'waiting_feedback', state: 'max_attempts', topic: undefined },
        at,
      ),
      ['turns|10:15', 'max_attempts|-'],
    );
    assert.deepEqual(
      countedFields(
        { previousState: 'waiting_feedback', state: 'waiting_feedback', topic: 'pia' },
        at,
      ),
      ['turns|10:15'],
    );
  });

  it('reads the last hour across midnight, and forgets days past their time', async () => {
    let now = Date.parse('2026-11-30T23:50:00Z');
    const counters = new MemoryCounters(() => now);
    const counter = new OutcomeCounter(counters, 'p:', captureLogs().logger);
    counter.record(
      { previousState: 'new_problem', state: 'waiting_feedback', topic: 'pia' },
      new Date(now),
    );
    now = Date.parse('2026-12-01T00:10:00Z');
    counter.record(
      { previousState: 'waiting_feedback', state: 'resolved', topic: 'pia' },
      new Date(now),
    );
    await until(
      async () => (await counters.read('p:outcomes:2026-12-01'))['resolved|pia'] === 1,
      'the count',
    );
    const report = await counter.report(new Date(now), 2);
    const turns = report.turnsPerMinute.filter((point) => point.turns > 0).map((p) => p.minute);
    assert.deepEqual(turns, ['2026-11-30T23:50:00.000Z', '2026-12-01T00:10:00.000Z']);
    assert.deepEqual(report.totals, { resolved: 1, maxAttempts: 0, open: 0 });
    now += 91 * 86400000;
    assert.deepEqual(await counters.read('p:outcomes:2026-12-01'), {});
  });
});

describe('outcomes counted in Redis', redisTestOptions(), () => {
  const redis = useRedisServer();
  const apps: FastifyInstance[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      apps.push(
        await createApi({
          config: testConfig({
            USE_REDIS: 'true',
            REDIS_URL: redis.server.url(),
            RATE_LIMIT_PER_MINUTE: '0',
            ADMIN_API_KEY: TEST_ADMIN_KEY,
          }),
          logger: captureLogs('info').logger,
          responder: await testResponder(),
        }),
      );
    }
  });
  after(async () => {
    for (const app of apps) await app.close();
  });

  it('adds every instance to the same day hash, with a 90-day TTL', async () => {
    const [first, second] = apps as [FastifyInstance, FastifyInstance];
    await threeProblems(first);
    const key = `cql:session:outcomes:${new Date().toISOString().slice(0, 10)}`;
    await until(
      async () => (await redis.raw.hGet(key, 'resolved|torneira-pingando')) === '1',
      'the count in Redis',
    );
    const ttl = await redis.raw.ttl(key);
    assert.ok(ttl > 89 * 86400 && ttl <= 90 * 86400, String(ttl));
    const response = await second.inject({ url: '/api/v1/admin/outcomes', headers: asAdmin });
    assert.deepEqual(response.json().totals, { resolved: 1, max_attempts: 1, open: 1 });
    // The listing skips the counters' keys: they are not sessions.
    const listed = await second.inject({ url: '/api/v1/chat/sessions', headers: asAdmin });
    assert.ok(
      listed
        .json()
        .sessions.every((s: { session_id: string }) => !s.session_id.includes('outcomes')),
    );
    const store = await second.inject({ url: '/api/v1/admin/store', headers: asAdmin });
    assert.equal(store.json().backend, 'redis');
    assert.equal(store.json().connected, true);
    assert.equal(store.json().on_memory_since, null);
    assert.equal(store.json().pending_writebacks, 0);
    assert.equal(store.json().topology, 'single');
    assert.equal(store.json().quarantined, 0);
    assert.equal(typeof store.json().used_memory_bytes, 'number');
  });
});
