import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { CONTRACT_MAX_VALUE_BYTES, runStoreContract } from './store-contract.js';
import { captureLogs } from './support/fixtures.js';
import { until } from './support/until.js';

/** The contract's clock: moved by its expiry tests, never slept on. */
let clock = Date.parse('2025-01-01T00:00:00.000Z');
runStoreContract('memory', {
  open: async () =>
    new MemorySessionStore({ maxValueBytes: CONTRACT_MAX_VALUE_BYTES, now: () => clock }),
  advanceClock: (ms) => {
    clock += ms;
  },
});

describe('memory store, beyond the contract', () => {
  it('evicts the least recently used session when full', async () => {
    const store = new MemorySessionStore({ maxSessions: 3 });
    await store.set('a', '1', 60);
    await store.set('b', '2', 60);
    await store.set('c', '3', 60);
    await store.get('a'); // a is now the most recently used
    await store.set('d', '4', 60);
    assert.equal(store.size, 3);
    assert.equal(store.evictions, 1);
    assert.equal(await store.get('b'), null, 'b was the least recently used');
    assert.equal(await store.get('a'), '1');
    assert.equal(await store.get('d'), '4');
    await store.close();
  });

  it('sweeps expired sessions on its timer, without being asked for them', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore({ now: () => now, sweepIntervalMs: 10 });
    await store.set('old', 'v', 10);
    await store.set('fresh', 'v', 100);
    now += 11_000;
    await until(() => store.size === 1, 'the sweep');
    assert.equal(await store.get('fresh'), 'v');
    await store.close();
  });

  it('drops expired sessions before evicting a live one, and logs each eviction', async () => {
    let now = 0;
    const logs = captureLogs();
    const store = new MemorySessionStore({ maxSessions: 3, now: () => now, logger: logs.logger });
    await store.set('live', 'v', 100);
    await store.set('expiring-1', 'v', 1);
    await store.set('expiring-2', 'v', 1);
    now = 2000;
    await store.set('new', 'v', 100);
    assert.equal(await store.get('live'), 'v');
    assert.equal(store.evictions, 0);
    await store.set('a', 'v', 100);
    await store.set('b', 'v', 100); // full of live sessions: 'new' is the least recently used
    assert.equal(store.evictions, 1);
    assert.equal(await store.get('new'), null);
    assert.equal(await store.get('live'), 'v');
    const line = logs.records().find((r) => r.event_type === 'session_evicted');
    assert.equal(line?.level, 'WARNING');
    assert.equal(line?.session_id, 'new');
    await store.close();
  });

  it('says in its log when it starts a listing over from a cursor it did not issue', async () => {
    const logs = captureLogs('info');
    const store = new MemorySessionStore({ logger: logs.logger });
    await store.set('s', 'v', 60);
    const page = await store.list({ cursor: 'redis:127.0.0.1:6380:1234' });
    assert.deepEqual(
      page.entries.map((entry) => entry.id),
      ['s'],
    );
    const line = logs.records().find((r) => r.event_type === 'session_listing_restarted');
    assert.equal(line?.level, 'INFO');
    assert.equal(line?.cursor, 'redis:127.0.0.1:6380:1234');
    await store.close();
  });

  it('rounds the TTL as Redis does', async () => {
    let now = 0;
    const store = new MemorySessionStore({ now: () => now });
    await store.set('s', 'v', 10);
    now = 8_400; // 1.6 s left
    assert.equal(await store.ttl('s'), 2);
    now = 9_600; // 0.4 s left: Redis says 0 while the key still exists
    assert.equal(await store.ttl('s'), 0);
    assert.equal(await store.exists('s'), true);
    await store.close();
  });

  it('does not keep the process alive with its sweep timer', () => {
    // A process that opens a store and never closes it must still exit on its own.
    const script =
      "const { MemorySessionStore } = await import('./src/sessions/stores/memory.ts');" +
      'new MemorySessionStore({ sweepIntervalMs: 10 });';
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 15000,
        encoding: 'utf8',
      },
    );
    assert.equal(result.error, undefined, 'the process did not exit by itself');
    assert.equal(result.status, 0, result.stderr);
  });
});
