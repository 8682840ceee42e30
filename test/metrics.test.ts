import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../src/metrics.js';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import type { SessionStore } from '../src/sessions/types.js';

/** The value of session_store_operations_total for these labels in the exposition text. */
function operations(text: string, backend: string, operation: string, outcome: string): number {
  const line = new RegExp(
    `^session_store_operations_total\\{backend="${backend}",operation="${operation}",outcome="${outcome}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return line ? Number(line[1]) : 0;
}

describe('store operation metrics', () => {
  it('counts every operation once, across scrapes, with its outcome', async () => {
    const metrics = new Metrics();
    const memory = new MemorySessionStore();
    const store = metrics.instrument(memory);
    await store.set('a', '{}', 60);
    await store.setIf('a', '{"v":2}', 60, { min: -1, max: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < 3; i++) await store.get('a');
    let text = await metrics.registry.metrics();
    assert.equal(operations(text, 'memory', 'set', 'ok'), 2);
    assert.equal(operations(text, 'memory', 'get', 'ok'), 3);

    await store.get('a');
    await store.delete('a');
    // A failure is counted under its code.
    memory.get = () => Promise.reject(new StoreUnavailableError('memory', 'get', 'test'));
    await assert.rejects(store.get('a'), StoreUnavailableError);
    text = await metrics.registry.metrics();
    assert.equal(
      operations(text, 'memory', 'get', 'ok'),
      4,
      'not counted twice by a second scrape',
    );
    assert.equal(operations(text, 'memory', 'delete', 'ok'), 1);
    assert.equal(operations(text, 'memory', 'get', 'ERR_STORE_UNAVAILABLE'), 1);
    assert.equal(operations(text, 'memory', 'set', 'ok'), 2);
  });

  it('counts under the backend that served each operation', async () => {
    const metrics = new Metrics();
    const memory = new MemorySessionStore();
    let name = 'redis';
    // As a failover store does: its name is the backend serving at the moment.
    const switching = {
      get name() {
        return name;
      },
      get: (id: string) => memory.get(id),
    } as unknown as SessionStore;
    const store = metrics.instrument(switching);
    await store.get('x');
    name = 'memory';
    await store.get('x');
    await store.get('x');
    const text = await metrics.registry.metrics();
    assert.equal(operations(text, 'redis', 'get', 'ok'), 1);
    assert.equal(operations(text, 'memory', 'get', 'ok'), 2);
  });
});
