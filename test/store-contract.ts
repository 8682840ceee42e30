/**
 * The one suite every SessionStore passes with the same assertions. A store file calls
 * runStoreContract() with a factory; store-specific checks live beside it. Expiry runs on a clock
 * the test moves where the store has one (memory), and is waited for where it has not (Redis).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { writeStamp } from '../src/sessions/codec.js';
import { SessionCorruptError, StoreUnavailableError } from '../src/sessions/errors.js';
import { SessionManager } from '../src/sessions/manager.js';
import type { SessionStore } from '../src/sessions/types.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { until } from './support/until.js';

/** The size limit (maxValueBytes) every store under the contract is opened with. */
export const CONTRACT_MAX_VALUE_BYTES = 512 * 1024;

export interface ContractTarget {
  /** A fresh, empty store for one test, reading values up to CONTRACT_MAX_VALUE_BYTES. */
  open(): Promise<SessionStore>;
  /** Moves the clock the store's expiry runs on (a memory store's `now`) forward. Stores on real
   * time (Redis) leave it out: their expiry is waited for. */
  advanceClock?(ms: number): void;
  /** The store serves during a Redis outage, from its memory copy (a failover store): a session
   * the copy does not hold is unavailable (StoreUnavailableError), not missing. */
  outage?: boolean;
  /** Called in each test after its first writes and before anything reads them: a failover
   * store in an outage recovers here, so what follows checks what it wrote back. */
  settle?(store: SessionStore): Promise<void>;
}

/** Every entry of a listing (from `from`, or the start), checking that each cursor names the
 * store that issued it. */
async function listAll(
  store: SessionStore,
  limit: number,
  headBytes?: number,
  from?: string,
): Promise<Map<string, { value: string; ttl: number | null }>> {
  const seen = new Map<string, { value: string; ttl: number | null }>();
  let cursor = from;
  let pages = 0;
  do {
    const page = await store.list({ cursor, limit, headBytes });
    for (const entry of page.entries) seen.set(entry.id, { value: entry.value, ttl: entry.ttl });
    cursor = page.cursor;
    if (cursor !== undefined) {
      assert.ok(
        cursor.startsWith(`${store.name}:`),
        `cursor ${cursor} names the ${store.name} store`,
      );
    }
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

    const settle = async () => {
      await target.settle?.(store);
    };

    /** `id` is not stored. During an outage the copy cannot tell: every answer is unavailable. */
    const assertMissing = async (id: string) => {
      const calls = [
        () => store.get(id),
        () => store.exists(id),
        () => store.ttl(id),
        () => store.delete(id),
      ];
      if (target.outage) {
        for (const call of calls) await assert.rejects(call(), StoreUnavailableError);
        return;
      }
      assert.deepEqual(
        await Promise.all(calls.map((call) => call())),
        [null, false, 0, false],
        `${id} is missing`,
      );
    };

    /** `id` was deleted through this store: missing, whatever the backend. */
    const assertDeleted = async (id: string) => {
      assert.equal(await store.get(id), null);
      assert.equal(await store.exists(id), false);
      assert.equal(await store.ttl(id), 0);
      assert.equal(await store.delete(id), false);
    };

    /** Lets a 1-second TTL run out: the store's clock is moved, or the expiry waited for. */
    const outlive = async (id: string) => {
      target.advanceClock?.(1001);
      await until(async () => {
        try {
          return !(await store.exists(id));
        } catch (error) {
          // During an outage an expired copy is as good as unknown.
          if (target.outage && error instanceof StoreUnavailableError) return true;
          throw error;
        }
      }, `the expiry of ${id}`);
    };

    it('returns what was set, and null for a missing session', async () => {
      await store.set('user-123', '{"a":1}', 60);
      await settle();
      assert.equal(await store.get('user-123'), '{"a":1}');
      await assertMissing('missing');
    });

    it('overwrites on set', async () => {
      await store.set('s', 'one', 60);
      await store.set('s', 'two', 60);
      await settle();
      assert.equal(await store.get('s'), 'two');
    });

    it('keeps text byte for byte: accents, emoji, 200 KB', async () => {
      const text = `a torneira está pingando 🚰 ${'ção'.repeat(70000)}`;
      await store.set('unicode', text, 60);
      await settle();
      assert.equal(await store.get('unicode'), text);
    });

    const v = (version: number, text = 'x') =>
      `{"schema_version":1,"version":${version},"text":"${text}"}`;

    it('compare-and-sets on the stored version, a missing session being version 0', async () => {
      assert.deepEqual(await store.setIf('s', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'written',
        storedVersion: 0,
      });
      await settle();
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
      await settle();
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
      await settle();
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
      await settle();
      assert.deepEqual(await store.setIf('empty', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'conflict',
        storedVersion: -1,
      });
      assert.equal(await store.get('empty'), '');
    });

    it('reads the version of a value in another key order, and -1 for an unreadable one', async () => {
      // The same value again, in a layout the script must read whole: identical.
      const reordered = '{"text":"y","version":9,"schema_version":1}';
      await store.set('reordered', '{"text":"x","version":7,"schema_version":1}', 60);
      await store.set('reordered-again', reordered, 60);
      await store.set('garbage', 'not json', 60);
      await settle();
      assert.equal(
        (await store.setIf('reordered', v(8), 60, { min: 7, max: 7 })).outcome,
        'written',
      );
      assert.deepEqual(await store.setIf('reordered-again', reordered, 60, { min: 0, max: 8 }), {
        outcome: 'identical',
        storedVersion: 9,
      });
      assert.deepEqual(await store.setIf('garbage', v(1), 60, { min: 0, max: 0 }), {
        outcome: 'conflict',
        storedVersion: -1,
      });
    });

    it('treats an expired session as missing for compare-and-set', async () => {
      await store.set('gone', v(4), 1);
      await settle();
      await outlive('gone');
      assert.equal((await store.setIf('gone', v(1), 60, { min: 0, max: 0 })).outcome, 'written');
    });

    it('quarantines the value it was given: the session is then absent and unlisted', async () => {
      await store.set('bad', 'not json', 60);
      await settle();
      const moved = await store.quarantine('bad', 'not json');
      assert.equal(moved.outcome, 'moved');
      assert.ok(moved.outcome === 'moved' && moved.movedTo.includes('bad'), 'it says where');
      await assertMissing('bad');
      assert.equal((await listAll(store, 100)).size, 0);
      // Nothing to move: said so, no error.
      assert.deepEqual(await store.quarantine('never-there', 'x'), { outcome: 'gone' });
      assert.deepEqual(await store.quarantine('bad', 'not json'), { outcome: 'gone' });
    });

    it('leaves a session that changed since it was read as unreadable', async () => {
      await store.set('raced', v(1), 60); // another caller replaced the unreadable value
      await settle();
      assert.deepEqual(await store.quarantine('raced', 'not json'), { outcome: 'replaced' });
      assert.equal(await store.get('raced'), v(1));
    });

    it('hands out an empty value as itself, not as missing, and quarantines it', async () => {
      await store.set('empty', '', 60);
      await settle();
      assert.equal(await store.get('empty'), '');
      assert.equal((await store.quarantine('empty', '')).outcome, 'moved');
      await assertMissing('empty');
    });

    it('refuses to hand out a value over its size limit, and moves it aside without it', async () => {
      const limit = CONTRACT_MAX_VALUE_BYTES;
      const exactly = `"${'é'.repeat((limit - 2) / 2)}"`; // 2 bytes a character
      const over = `${exactly}x`;
      await store.set('at-limit', exactly, 60);
      await store.set('over', over, 60);
      await settle();
      assert.equal(await store.get('at-limit'), exactly, 'a value of exactly the limit is read');
      await assert.rejects(
        store.get('over'),
        (error: unknown) =>
          error instanceof SessionCorruptError &&
          error.sessionId === 'over' &&
          new RegExp(`larger than ${limit} bytes`).test(error.message),
      );
      // Without the value (it was never read): a value within the limit is not moved...
      assert.deepEqual(await store.quarantine('at-limit'), { outcome: 'replaced' });
      assert.equal(await store.get('at-limit'), exactly);
      // ...the one over it is.
      assert.equal((await store.quarantine('over')).outcome, 'moved');
      await assertMissing('over');
      const listed = await listAll(store, 100);
      assert.deepEqual([...listed.keys()], ['at-limit']);
    });

    it('lists a value over its size limit by its head, and never whole', async () => {
      const over = `{"head":true,"body":"${'x'.repeat(CONTRACT_MAX_VALUE_BYTES)}"}`;
      await store.set('huge', over, 60);
      await store.set('small', 'v', 60);
      await settle();
      assert.ok(((await listAll(store, 100, 64)).get('huge')?.value ?? '').startsWith('{"head"'));
      assert.deepEqual([...(await listAll(store, 100)).keys()], ['small']);
    });

    it('compare-and-sets on the creation time too: a recreated session is another one', async () => {
      const made = (at: string, version: number) =>
        `{"schema_version":1,"version":${version},"state":"new_problem","created_at":"${at}"}`;
      await store.set('reborn', made('2025-01-02T00:00:00.000Z', 3), 60);
      await settle();
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

    it('writes on the stamp of the value it read, and lets the version decide once it is stale', async () => {
      const at = '2025-01-02T00:00:00.000Z';
      const stamped = (version: number, writeId: string) =>
        `{"schema_version":1,"version":${version},"state":"new_problem","write_id":"${writeId}","created_at":"${at}","text":"x"}`;
      const read = (value: string) => {
        const stamp = writeStamp(value);
        assert.ok(stamp !== undefined && value.startsWith(stamp) && stamp.endsWith(`"`));
        return stamp;
      };
      await store.set('stamped', stamped(3, 'w-a'), 60);
      await settle();
      const fromA = { min: 3, max: 3, createdAt: at, stamp: read(stamped(3, 'w-a')) };
      assert.deepEqual(await store.setIf('stamped', stamped(4, 'w-b'), 60, fromA), {
        outcome: 'written',
        storedVersion: 3,
      });
      // A second writer that read the same value: its stamp is gone, and so is its version.
      assert.deepEqual(await store.setIf('stamped', stamped(4, 'w-c'), 60, fromA), {
        outcome: 'conflict',
        storedVersion: 4,
      });
      assert.equal(await store.get('stamped'), stamped(4, 'w-b'));
      // The same version written again under another write id (a backup imported): the stamp no
      // longer matches, the version still does, and decides.
      await store.set('stamped', stamped(4, 'w-d'), 60);
      const fromB = { min: 4, max: 4, createdAt: at, stamp: read(stamped(4, 'w-b')) };
      assert.deepEqual(await store.setIf('stamped', stamped(5, 'w-e'), 60, fromB), {
        outcome: 'written',
        storedVersion: 4,
      });
      // The same write sent again (its answer was lost): already there.
      assert.deepEqual(await store.setIf('stamped', stamped(5, 'w-e'), 60, fromB), {
        outcome: 'identical',
        storedVersion: 5,
      });
      assert.equal(await store.get('stamped'), stamped(5, 'w-e'));
    });

    it('reports its status', async () => {
      await settle();
      const status = await store.status();
      assert.equal(status.backend, store.name);
      assert.equal(status.connected, !target.outage, 'connected, unless Redis is away');
      assert.equal(store.connected, !target.outage);
    });

    it('deletes, reporting whether something was deleted', async () => {
      await store.set('s', 'v', 60);
      await settle();
      assert.equal(await store.delete('s'), true);
      await assertDeleted('s');
    });

    it('tells whether a session exists', async () => {
      await store.set('s', 'v', 60);
      await settle();
      assert.equal(await store.exists('s'), true);
      await assertMissing('other');
    });

    it('reports the TTL in seconds, and 0 for a missing session', async () => {
      await store.set('s', 'v', 120);
      await settle();
      const ttl = await store.ttl('s');
      assert.ok(ttl === 120 || ttl === 119, `ttl was ${ttl}`);
      await assertMissing('missing');
    });

    it('renews the TTL on every write', async () => {
      await store.set('s', 'v', 5);
      await store.set('s', 'w', 300);
      await settle();
      const ttl = await store.ttl('s');
      assert.ok(ttl === 300 || ttl === 299, `ttl was ${ttl}`);
    });

    it('expires a session after its TTL: invisible everywhere', async () => {
      await store.set('short', 'v', 1);
      await store.set('long', 'v', 60);
      await settle();
      await outlive('short');
      await assertMissing('short');
      const listed = await listAll(store, 100);
      assert.deepEqual([...listed.keys()], ['long']);
    });

    it('lists every session across pages under its own cursors, each with its value and TTL', async () => {
      const ids = Array.from({ length: 250 }, (_, i) => `session_${String(i).padStart(3, '0')}`);
      await Promise.all(ids.map((id) => store.set(id, `value of ${id}`, 600)));
      await settle();
      const listed = await listAll(store, 40);
      assert.deepEqual([...listed.keys()].sort(), ids);
      for (const id of ids) {
        const entry = listed.get(id);
        assert.equal(entry?.value, `value of ${id}`);
        assert.ok(entry?.ttl === 600 || entry?.ttl === 599, `ttl of ${id} was ${entry?.ttl}`);
      }
    });

    it('starts a listing over from a cursor it did not issue, never misreading it', async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `session_${String(i).padStart(3, '0')}`);
      await Promise.all(ids.map((id) => store.set(id, 'v', 600)));
      await settle();
      // Another node's, no store's, and the formats cursors had before they named their store.
      const foreign = ['redis:127.0.0.1:1:0', 'not-a-cursor', '127.0.0.1:6379|17', 'session_010'];
      // Another backend's: a memory cursor reads as "ids after" only in a memory store.
      if (store.name !== 'memory') foreign.push('memory:session_010');
      for (const cursor of foreign) {
        const listed = await listAll(store, 7, undefined, cursor);
        assert.deepEqual([...listed.keys()].sort(), ids, `a listing from ${cursor}`);
      }
    });

    it('lists at least the first headBytes of each value when asked for a prefix', async () => {
      const value = `{"head":true}${'x'.repeat(5000)}`;
      await store.set('big', value, 60);
      await settle();
      const listed = await listAll(store, 10, 64);
      const got = listed.get('big')?.value ?? '';
      assert.ok(got.length >= 64 && value.startsWith(got), 'a prefix of at least 64 bytes');
    });

    it('lists nothing when empty', async () => {
      await settle();
      assert.equal((await listAll(store, 100)).size, 0);
    });

    describe('under a SessionManager', () => {
      let manager: SessionManager;
      beforeEach(async () => {
        manager = new SessionManager({
          store,
          config: testConfig({ SESSION_TTL: '900' }),
          logger: captureLogs('silent').logger,
          responder: await testResponder(),
        });
      });

      it('sets an empty stored value aside and starts the session over, at once', async () => {
        await store.set('blank', '', 60);
        await settle();
        const agent = await manager.getOrCreateAgent('blank');
        assert.equal(agent.state, 'new_problem');
        assert.notEqual(await store.get('blank'), '', 'a new session replaced it');
        await agent.chat('a torneira está pingando');
        await manager.updateAgent('blank', agent);
        assert.equal((await manager.getAgent('blank'))?.state, 'waiting_feedback');
      });

      it('sets a value over the size limit aside and starts the session over', async () => {
        await store.set('giant', `{"x":"${'y'.repeat(CONTRACT_MAX_VALUE_BYTES)}"}`, 60);
        await settle();
        const agent = await manager.getOrCreateAgent('giant');
        assert.equal(agent.state, 'new_problem');
        assert.equal((await manager.getAgent('giant'))?.state, 'new_problem');
      });

      // Sessions below are made by a first message (server-made ids), which an instance can do
      // even during an outage.
      it('loses a change that was not saved with updateAgent (stored copies, not references)', async () => {
        const { sessionId } = await manager.runTurn(undefined, 'a torneira está pingando');
        await settle();
        const agent = await manager.getAgent(sessionId);
        assert.ok(agent);
        await agent.chat('não');
        assert.equal(agent.conversationHistory.length, 4);
        const reloaded = await manager.getAgent(sessionId);
        assert.notEqual(reloaded, agent);
        assert.equal(reloaded?.conversationHistory.length, 2);
        assert.equal(reloaded?.currentAttempt, 1);
      });

      it('keeps a saved change, and gives independent copies to each caller', async () => {
        const { sessionId } = await manager.runTurn(undefined, 'a pia da cozinha está entupida');
        await settle();
        const first = await manager.getAgent(sessionId);
        const second = await manager.getAgent(sessionId);
        assert.ok(first && second);
        assert.equal(first.state, 'waiting_feedback');
        assert.equal(first.conversationHistory.length, 2);
        await first.chat('não');
        await manager.updateAgent(sessionId, first);
        assert.equal(second.currentAttempt, 1, 'a second copy is not touched by the first');
        assert.equal((await manager.getAgent(sessionId))?.currentAttempt, 2);
      });

      it('creates a session once when two callers race to create it under their own id', async () => {
        await settle();
        if (target.outage) {
          // Redis may hold it, and who may act on it cannot be checked: nothing is created.
          await assert.rejects(manager.getOrCreateAgent('race'), StoreUnavailableError);
          return;
        }
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
        const a = await manager.runTurn(undefined, 'o disjuntor fica desarmando');
        const b = await manager.runTurn(undefined, 'a pia está entupida');
        await manager.resetSession(b.sessionId, { token: b.token });
        await settle();
        const sessions = await manager.listSessions();
        assert.deepEqual(
          sessions.map((s) => [s.sessionId, s.state, s.currentAttempt]),
          [
            [a.sessionId, 'waiting_feedback', 1],
            [b.sessionId, 'new_problem', 0],
          ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
        );
        for (const s of sessions) assert.ok(s.ttl === 900 || s.ttl === 899, `ttl ${s.ttl}`);
        assert.equal(await manager.deleteSession(a.sessionId), true);
        assert.equal(await manager.deleteSession(a.sessionId), false);
        assert.deepEqual(
          (await manager.listSessions()).map((s) => s.sessionId),
          [b.sessionId],
        );
      });
    });
  });
}
