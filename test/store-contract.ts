/**
 * The one suite every SessionStore passes with the same assertions. A store file calls
 * runStoreContract() with a factory; store-specific checks live beside it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager } from '../src/sessions/manager.js';
import type { SessionStore } from '../src/sessions/types.js';
import { testConfig, testResponder } from './support/fixtures.js';

export interface ContractTarget {
  /** A fresh, empty store for one test. */
  open(): Promise<SessionStore>;
}

async function listAll(store: SessionStore, limit: number, headBytes?: number) {
  const seen = new Map<string, { value: string; ttl: number | null }>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ cursor, limit, headBytes });
    for (const entry of page.entries) seen.set(entry.id, { value: entry.value, ttl: entry.ttl });
    cursor = page.cursor;
    pages++;
    assert.ok(pages < 1000, 'listing does not end');
  } while (cursor !== undefined);
  return seen;
}

export function runStoreContract(name: string, target: ContractTarget): void {
  describe(`${name} store contract`, () => {
    let store: SessionStore;
    beforeEach(async () => {
      store = await target.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns what was set, and null for a missing session', async () => {
      await store.set('user-123', '{"a":1}', 60);
      assert.equal(await store.get('user-123'), '{"a":1}');
      assert.equal(await store.get('missing'), null);
    });

    it('overwrites on set', async () => {
      await store.set('s', 'one', 60);
      await store.set('s', 'two', 60);
      assert.equal(await store.get('s'), 'two');
    });

    it('keeps text byte for byte: accents, emoji, 200 KB', async () => {
      const text = `a torneira está pingando 🚰 ${'ção'.repeat(70000)}`;
      await store.set('unicode', text, 60);
      assert.equal(await store.get('unicode'), text);
    });

    const v = (version: number, text = 'x') =>
      `{"schema_version":1,"version":${version},"text":"${text}"}`;

    it('compare-and-sets on the stored version, a missing session being version 0', async () => {
      assert.deepEqual(await store.setIf('s', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'written',
        storedVersion: 0,
      });
      assert.deepEqual(await store.setIf('s', v(1, 'other'), 60, { min: 0, max: 0 }), {
        outcome: 'conflict',
        storedVersion: 1,
      });
      assert.equal(await store.get('s'), v(1));
      assert.deepEqual(await store.setIf('s', v(2), 60, { min: 1, max: 1 }), {
        outcome: 'written',
        storedVersion: 1,
      });
      const ttl = await store.ttl('s');
      assert.ok(ttl === 60 || ttl === 59, `the TTL is set with the value (${ttl})`);
    });

    it('writes over any older version with a range, and reports an identical value', async () => {
      await store.set('s', v(3), 60);
      assert.equal((await store.setIf('s', v(5), 60, { min: 0, max: 4 })).outcome, 'written');
      assert.deepEqual(await store.setIf('s', v(4), 60, { min: 0, max: 3 }), {
        outcome: 'conflict',
        storedVersion: 5,
      });
      assert.deepEqual(await store.setIf('s', v(5), 60, { min: 0, max: 4 }), {
        outcome: 'identical',
        storedVersion: 5,
      });
      assert.equal(await store.get('s'), v(5));
    });

    it('tells an identical long value from one that differs only after its head', async () => {
      const long = (version: number, tail: string) => v(version, `${'á'.repeat(600)}${tail}`);
      await store.set('long', long(2, 'a'), 60);
      assert.deepEqual(await store.setIf('long', long(2, 'a'), 60, { min: 0, max: 1 }), {
        outcome: 'identical',
        storedVersion: 2,
      });
      assert.deepEqual(await store.setIf('long', long(2, 'b'), 60, { min: 0, max: 1 }), {
        outcome: 'conflict',
        storedVersion: 2,
      });
      assert.deepEqual(await store.setIf('long', long(2, 'b'), 60, { min: 2, max: 2 }), {
        outcome: 'written',
        storedVersion: 2,
      });
      assert.equal(await store.get('long'), long(2, 'b'));
    });

    it('counts an empty stored value as unreadable, not as missing', async () => {
      await store.set('empty', '', 60);
      assert.deepEqual(await store.setIf('empty', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'conflict',
        storedVersion: -1,
      });
      assert.equal(await store.get('empty'), '');
    });

    it('reads the version of a value in another key order, and -1 for an unreadable one', async () => {
      await store.set('reordered', '{"text":"x","version":7,"schema_version":1}', 60);
      assert.equal(
        (await store.setIf('reordered', v(8), 60, { min: 7, max: 7 })).outcome,
        'written',
      );
      // The same value again, in a layout the script must read whole: identical.
      const reordered = '{"text":"y","version":9,"schema_version":1}';
      await store.set('reordered-again', reordered, 60);
      assert.deepEqual(await store.setIf('reordered-again', reordered, 60, { min: 0, max: 8 }), {
        outcome: 'identical',
        storedVersion: 9,
      });
      await store.set('garbage', 'not json', 60);
      assert.deepEqual(await store.setIf('garbage', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'conflict',
        storedVersion: -1,
      });
    });

    it('treats an expired session as missing for compare-and-set', async () => {
      await store.set('gone', v(4), 1);
      await sleep(1200);
      assert.equal((await store.setIf('gone', v(1), 60, { min: 0, max: 0 })).outcome, 'written');
    });

    it('quarantines the value it was given: the session is then absent and unlisted', async () => {
      await store.set('bad', 'not json', 60);
      await store.quarantine('bad', 'not json');
      assert.equal(await store.get('bad'), null);
      assert.equal(await store.exists('bad'), false);
      assert.equal((await listAll(store, 100)).size, 0);
      await store.quarantine('never-there', 'x'); // nothing to move: no error
    });

    it('leaves a session that changed since it was read as unreadable', async () => {
      await store.set('raced', v(1), 60); // another caller replaced the unreadable value
      await store.quarantine('raced', 'not json');
      assert.equal(await store.get('raced'), v(1));
    });

    it('compare-and-sets on the creation time too: a recreated session is another one', async () => {
      const made = (at: string, version: number) =>
        `{"schema_version":1,"version":${version},"state":"new_problem","created_at":"${at}"}`;
      await store.set('reborn', made('2025-01-02T00:00:00.000Z', 3), 60);
      const stale = { min: 3, max: 3, createdAt: '2025-01-01T00:00:00.000Z' };
      assert.equal(
        (await store.setIf('reborn', made('2025-01-01T00:00:00.000Z', 4), 60, stale)).outcome,
        'conflict',
      );
      const same = { min: 3, max: 3, createdAt: '2025-01-02T00:00:00.000Z' };
      assert.equal(
        (await store.setIf('reborn', made('2025-01-02T00:00:00.000Z', 4), 60, same)).outcome,
        'written',
      );
    });

    it('reports its status', async () => {
      const status = await store.status();
      assert.equal(status.backend, store.name);
      assert.equal(status.connected, true);
    });

    it('deletes, reporting whether something was deleted', async () => {
      await store.set('s', 'v', 60);
      assert.equal(await store.delete('s'), true);
      assert.equal(await store.get('s'), null);
      assert.equal(await store.delete('s'), false);
    });

    it('tells whether a session exists', async () => {
      await store.set('s', 'v', 60);
      assert.equal(await store.exists('s'), true);
      assert.equal(await store.exists('other'), false);
    });

    it('reports the TTL in seconds, and 0 for a missing session', async () => {
      await store.set('s', 'v', 120);
      const ttl = await store.ttl('s');
      assert.ok(ttl === 120 || ttl === 119, `ttl was ${ttl}`);
      assert.equal(await store.ttl('missing'), 0);
    });

    it('renews the TTL on every write', async () => {
      await store.set('s', 'v', 5);
      await store.set('s', 'w', 300);
      const ttl = await store.ttl('s');
      assert.ok(ttl === 300 || ttl === 299, `ttl was ${ttl}`);
    });

    it('expires a session after its TTL: invisible everywhere', async () => {
      await store.set('short', 'v', 1);
      await store.set('long', 'v', 60);
      await sleep(1200);
      assert.equal(await store.get('short'), null);
      assert.equal(await store.exists('short'), false);
      assert.equal(await store.ttl('short'), 0);
      assert.equal(await store.delete('short'), false);
      const listed = await listAll(store, 100);
      assert.deepEqual([...listed.keys()], ['long']);
    });

    it('lists every session across pages, each with its value and TTL', async () => {
      const ids = Array.from({ length: 250 }, (_, i) => `session_${String(i).padStart(3, '0')}`);
      await Promise.all(ids.map((id) => store.set(id, `value of ${id}`, 600)));
      const listed = await listAll(store, 40);
      assert.deepEqual([...listed.keys()].sort(), ids);
      for (const id of ids) {
        const entry = listed.get(id);
        assert.equal(entry?.value, `value of ${id}`);
        assert.ok(entry?.ttl === 600 || entry?.ttl === 599, `ttl of ${id} was ${entry?.ttl}`);
      }
    });

    it('lists at least the first headBytes of each value when asked for a prefix', async () => {
      const value = `{"head":true}${'x'.repeat(5000)}`;
      await store.set('big', value, 60);
      const listed = await listAll(store, 10, 64);
      const got = listed.get('big')?.value ?? '';
      assert.ok(got.length >= 64 && value.startsWith(got), 'a prefix of at least 64 bytes');
    });

    it('lists nothing when empty', async () => {
      assert.equal((await listAll(store, 100)).size, 0);
    });

    describe('under a SessionManager', () => {
      let manager: SessionManager;
      beforeEach(async () => {
        manager = await SessionManager.create({
          store,
          config: testConfig({ SESSION_TTL: '900' }),
          responder: await testResponder(),
        });
      });

      it('loses a change that was not saved with updateAgent (stored copies, not references)', async () => {
        const agent = await manager.getOrCreateAgent('copy-test');
        await agent.chat('a torneira está pingando');
        assert.equal(agent.conversationHistory.length, 2);
        const reloaded = await manager.getOrCreateAgent('copy-test');
        assert.notEqual(reloaded, agent);
        assert.equal(reloaded.conversationHistory.length, 0);
        assert.equal(reloaded.state, 'new_problem');
      });

      it('keeps a saved change, and gives independent copies to each caller', async () => {
        const agent = await manager.getOrCreateAgent('saved');
        await agent.chat('a pia da cozinha está entupida');
        await manager.updateAgent('saved', agent);
        const first = await manager.getOrCreateAgent('saved');
        const second = await manager.getOrCreateAgent('saved');
        assert.equal(first.state, 'waiting_feedback');
        assert.equal(first.conversationHistory.length, 2);
        await first.chat('não');
        assert.equal(second.currentAttempt, 1, 'a second copy is not touched by the first');
      });

      it('creates a session once when two callers race to create it', async () => {
        const [first, second] = await Promise.all([
          manager.getOrCreateAgent('race'),
          manager.getOrCreateAgent('race'),
        ]);
        await first.chat('a torneira está pingando');
        await manager.updateAgent('race', first);
        const again = await manager.getOrCreateAgent('race');
        assert.equal(again.state, 'waiting_feedback');
        assert.equal(second.state, 'new_problem');
      });

      it('lists sessions with state, attempt and TTL, and deletes them', async () => {
        const a = await manager.getOrCreateAgent('a');
        await a.chat('o disjuntor fica desarmando');
        await manager.updateAgent('a', a);
        await manager.getOrCreateAgent('b');
        const sessions = await manager.listSessions();
        assert.deepEqual(
          sessions.map((s) => [s.sessionId, s.state, s.currentAttempt]),
          [
            ['a', 'waiting_feedback', 1],
            ['b', 'new_problem', 0],
          ],
        );
        for (const s of sessions) assert.ok(s.ttl === 900 || s.ttl === 899, `ttl ${s.ttl}`);
        assert.equal(await manager.deleteSession('a'), true);
        assert.equal(await manager.deleteSession('a'), false);
        assert.deepEqual(
          (await manager.listSessions()).map((s) => s.sessionId),
          ['b'],
        );
      });
    });
  });
}
