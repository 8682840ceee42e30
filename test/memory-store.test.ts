import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { runStoreContract } from './store-contract.js';

runStoreContract('memory', { open: async () => new MemorySessionStore() });

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

  it('sweeps expired sessions without being asked for them', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore({ now: () => now });
    await store.set('old', 'v', 10);
    await store.set('fresh', 'v', 100);
    now += 11_000;
    assert.equal(store.size, 2, 'expired but not yet swept');
    store.sweep();
    assert.equal(store.size, 1);
    assert.equal(await store.get('fresh'), 'v');
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
