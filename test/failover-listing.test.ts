/**
 * A listing that spans an outage or a recovery: its cursors name the store that issued them, so
 * a page asked of the other store starts the listing over there (every session named at least
 * once) instead of misreading the cursor.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import { FailoverStore } from '../src/sessions/stores/failover.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import type { ListPage } from '../src/sessions/types.js';
import { type CapturedLogs, captureLogs } from './support/fixtures.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { startProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

/** The process state `ps` reports for a pid: 'T' once stopped by SIGSTOP. */
function processState(pid: number): string {
  return (
    execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()[0] ?? ''
  );
}

async function failoverOn(port: number, logs: CapturedLogs): Promise<FailoverStore> {
  const options = {
    url: `redis://127.0.0.1:${port}/0`,
    commandTimeoutMs: 300,
    connectTimeoutMs: 1000,
    logger: logs.logger,
  };
  return new FailoverStore({
    redis: await RedisSessionStore.connect(options),
    connect: () => RedisSessionStore.connect(options),
    local: new MemorySessionStore(),
    ttlSeconds: 900,
    logger: logs.logger,
    probe: { firstMs: 20, maxMs: 100 },
  });
}

/** The rest of a listing from `page`, adding every id to `seen`; the cursors it went through. */
async function listRest(
  store: FailoverStore,
  page: ListPage,
  seen: Set<string>,
  limit: number,
): Promise<string[]> {
  const cursors: string[] = [];
  for (const entry of page.entries) seen.add(entry.id);
  let cursor = page.cursor;
  while (cursor !== undefined) {
    cursors.push(cursor);
    const next = await store.list({ cursor, limit });
    for (const entry of next.entries) seen.add(entry.id);
    cursor = next.cursor;
    assert.ok(cursors.length < 1000, 'the listing ends');
  }
  return cursors;
}

const idsOf = (count: number) => Array.from({ length: count }, (_, i) => `sessao-${i}`).sort();

describe('listing across an outage', redisTestOptions(), () => {
  it('names every session when Redis is killed after the first page', async () => {
    const server: RedisServer = await startRedisServer();
    const logs = captureLogs('info');
    const store = await failoverOn(server.port, logs);
    try {
      // Enough sessions for Redis's SCAN to answer in more than one page.
      const ids = idsOf(300);
      for (const id of ids) await store.set(id, `{"id":"${id}"}`, 600);
      const first = await store.list({ limit: 2 });
      assert.ok(
        first.cursor?.startsWith('redis:'),
        `a Redis cursor to go on with: ${first.cursor}`,
      );
      assert.ok(first.entries.length < ids.length, 'the first page is not the whole listing');
      server.signal('SIGKILL');
      const seen = new Set<string>();
      const cursors = await listRest(store, first, seen, 2);
      assert.deepEqual([...seen].sort(), ids, 'every session listed at least once');
      assert.equal(store.name, 'memory', 'the listing met the outage');
      assert.ok(
        cursors.slice(1).every((cursor) => cursor.startsWith('memory:')),
        'then memory cursors',
      );
      const restarted = logs.records().find((r) => r.event_type === 'session_listing_restarted');
      assert.equal(restarted?.backend, 'memory');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('starts over on Redis a listing begun on the memory copy, once Redis is back', async () => {
    const server = await startRedisServer();
    const proxy = await startProxy(server.port);
    const store = await failoverOn(proxy.port, captureLogs('silent'));
    try {
      const ids = idsOf(5);
      for (const id of ids) await store.set(id, `{"id":"${id}"}`, 600);
      // Written by another instance while this one is away: only Redis has it.
      const other = await RedisSessionStore.connect({ url: server.url() });
      proxy.cut();
      await until(async () => {
        await store.exists('probe').catch((error: unknown) => {
          if (!(error instanceof StoreUnavailableError)) throw error;
        });
        return store.name === 'memory';
      }, 'the switch to memory');
      await other.set('sessao-de-outra-instancia', '{}', 600);
      await other.close();
      const first = await store.list({ limit: 2 });
      assert.equal(first.entries.length, 2);
      assert.ok(first.cursor?.startsWith('memory:'), `a memory cursor: ${first.cursor}`);
      proxy.restore();
      await until(() => store.name === 'redis', 'the recovery');
      const seen = new Set<string>();
      await listRest(store, first, seen, 2);
      assert.deepEqual([...seen].sort(), [...ids, 'sessao-de-outra-instancia'].sort());
    } finally {
      await store.close();
      await proxy.close();
      await server.stop();
    }
  });

  it('refuses a page a frozen Redis does not give, rather than answer from the partial copy', async () => {
    const server = await startRedisServer();
    const store = await failoverOn(server.port, captureLogs('silent'));
    try {
      await store.set('sessao', '{}', 600);
      server.signal('SIGSTOP');
      await until(() => processState(server.pid) === 'T', 'redis-server to be stopped');
      await assert.rejects(store.list({ limit: 2 }), StoreUnavailableError);
      server.signal('SIGCONT');
      const page = await store.list({ limit: 2 });
      assert.deepEqual(
        page.entries.map((entry) => entry.id),
        ['sessao'],
      );
    } finally {
      server.signal('SIGCONT');
      await store.close();
      await server.stop();
    }
  });
});
