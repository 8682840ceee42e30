import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { encodeSession, HEAD_BYTES, type SessionRecord } from '../src/sessions/codec.js';
import { SessionCorruptError, StoreUnavailableError } from '../src/sessions/errors.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import * as scripts from '../src/sessions/stores/redis-scripts.js';
import { CONTRACT_MAX_VALUE_BYTES, runStoreContract } from './store-contract.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions, startRedisServer } from './support/redis-server.js';

const at = '2026-03-01T10:00:00.000Z';
const limits = { maxHistoryMessages: 100, maxBytes: 1_000_000 };

/** A session as the codec stores it: version `version`, a history of `content`. */
function stored(version: number, content: string, createdAt = at): string {
  const record: SessionRecord = {
    schema_version: 1,
    version,
    state: 'waiting_feedback',
    current_attempt: 1,
    max_attempts: 3,
    use_rag: true,
    use_web_search: true,
    created_at: createdAt,
    updated_at: at,
    reset_at: null,
    token_sha256: null,
    topic: null,
    problem: 'a torneira pinga',
    conversation_history: [{ role: 'user', content, at }],
  };
  return encodeSession('s', record, limits).json;
}

/** Calls of each command Redis ran (scripts' own calls included) since `configResetStat`. */
async function commandCalls(raw: { info(section: string): Promise<string> }) {
  const stats = await raw.info('commandstats');
  return Object.fromEntries(
    [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]),
  );
}

describe('redis store', redisTestOptions(), () => {
  const redis = useRedisServer();
  let prefixes = 0;

  // Each contract test gets its own key prefix on the shared server: isolated, nothing to flush.
  runStoreContract('redis', {
    open: () =>
      RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: `contract:${++prefixes}:`,
        maxValueBytes: CONTRACT_MAX_VALUE_BYTES,
      }),
  });

  describe('beyond the contract', () => {
    it('stores a session under the documented key, with its TTL, as a plain string', async () => {
      const store = await RedisSessionStore.connect({ url: redis.server.url() });
      await store.set('user-123', '{"state":"new_problem"}', 3600);
      assert.equal(await redis.raw.get('cql:session:user-123'), '{"state":"new_problem"}');
      assert.equal(await redis.raw.ttl('cql:session:user-123'), 3600);
      assert.equal(await redis.raw.type('cql:session:user-123'), 'string');
      await store.delete('user-123');
      await store.close();
    });

    it('reports null for a key without expiry', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'persist:',
      });
      await redis.raw.set('persist:forever', 'v');
      assert.equal(await store.ttl('forever'), null);
      await store.close();
    });

    it('lists only valid session ids under its prefix, matching the prefix literally', async () => {
      const prefix = 'odd[1]*?:';
      const store = await RedisSessionStore.connect({ url: redis.server.url(), keyPrefix: prefix });
      await store.set('good', 'v', 60);
      await redis.raw.set(`${prefix}corrupt:good`, 'kept for inspection');
      await redis.raw.set(`${prefix}lock:good`, 'token');
      await redis.raw.set('odd11x:lookalike', 'a key the glob would match unescaped');
      const page = await store.list({ limit: 1000 });
      assert.deepEqual(
        page.entries.map((e) => e.id),
        ['good'],
      );
      await store.close();
    });

    it('never sends KEYS', async () => {
      await redis.raw.configResetStat();
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'nokeys:',
      });
      for (let i = 0; i < 50; i++) await store.set(`s${i}`, 'v', 60);
      let cursor: string | undefined;
      do cursor = (await store.list({ cursor })).cursor;
      while (cursor);
      const stats = await redis.raw.info('commandstats');
      assert.match(stats, /cmdstat_scan:/);
      assert.doesNotMatch(stats, /cmdstat_keys:/);
      await store.close();
    });

    it('fails fast with StoreUnavailableError when nothing listens', async () => {
      const closed = await startRedisServer();
      const url = closed.url();
      await closed.stop();
      await assert.rejects(
        RedisSessionStore.connect({ url, connectTimeoutMs: 1000 }),
        (error: unknown) =>
          error instanceof StoreUnavailableError &&
          error.code === 'ERR_STORE_UNAVAILABLE' &&
          /ECONNREFUSED/.test(error.message),
      );
    });

    it('refuses a wrong password with the server reason', async () => {
      const locked = await startRedisServer({ password: 's3cr3t-pw' });
      try {
        await assert.rejects(
          RedisSessionStore.connect({ url: `redis://:wrong@127.0.0.1:${locked.port}/0` }),
          (error: unknown) =>
            error instanceof StoreUnavailableError && /WRONGPASS/.test(error.message),
        );
        const store = await RedisSessionStore.connect({ url: locked.url() });
        await store.set('s', 'v', 60);
        assert.equal(await store.get('s'), 'v');
        await store.close();
      } finally {
        await locked.stop();
      }
    });

    it('fails a command within the deadline when the server freezes, and works once it thaws', async () => {
      const frozen = await startRedisServer();
      const store = await RedisSessionStore.connect({ url: frozen.url(), commandTimeoutMs: 200 });
      try {
        await store.set('s', 'v', 60);
        frozen.signal('SIGSTOP');
        await assert.rejects(
          store.get('s'),
          (error: unknown) =>
            error instanceof StoreUnavailableError && /no answer within 200 ms/.test(error.message),
        );
        frozen.signal('SIGCONT');
        // The frozen GET's late answer arrives first; the client stays in step.
        assert.equal(await store.get('s'), 'v');
      } finally {
        frozen.signal('SIGCONT');
        await store.close();
        await frozen.stop();
      }
    });

    it('rejects at once, without queueing, when the server is killed mid-session', async () => {
      const doomed = await startRedisServer();
      // A long deadline: a command queued for a reconnection would fail on it, not at once.
      const store = await RedisSessionStore.connect({ url: doomed.url(), commandTimeoutMs: 20000 });
      await store.set('s', 'v', 60);
      doomed.signal('SIGKILL');
      await doomed.stop();
      for (const call of [
        () => store.get('s'),
        () => store.set('s', 'w', 60),
        () => store.list(),
      ]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof StoreUnavailableError);
          assert.doesNotMatch(error.message, /no answer within/);
          return true;
        });
      }
      await store.close();
    });

    it('gives up connecting to a frozen server within the connect timeout', async () => {
      const frozen = await startRedisServer();
      frozen.signal('SIGSTOP');
      try {
        await assert.rejects(
          RedisSessionStore.connect({ url: frozen.url(), connectTimeoutMs: 300 }),
          (error: unknown) =>
            error instanceof StoreUnavailableError && /no answer within 300 ms/.test(error.message),
        );
      } finally {
        await frozen.stop();
      }
    });

    it('closes within the command deadline while the server is frozen', async () => {
      const frozen = await startRedisServer();
      const store = await RedisSessionStore.connect({ url: frozen.url(), commandTimeoutMs: 200 });
      frozen.signal('SIGSTOP');
      try {
        await assert.rejects(store.set('s', 'v', 60), StoreUnavailableError);
        await store.close(); // would wait for the frozen SET without the deadline
        assert.equal(store.connection.isOpen, false);
      } finally {
        await frozen.stop();
      }
    });

    it('keeps the unreadable value aside when two callers quarantine it at once', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'twice:',
      });
      for (let round = 0; round < 20; round++) {
        await store.set('bad', `not json ${round}`, 60);
        const outcomes = await Promise.all([
          store.quarantine('bad', `not json ${round}`),
          store.quarantine('bad', `not json ${round}`),
        ]);
        assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ['gone', 'moved'], 'one moves it');
        assert.equal(await redis.raw.get('twice:bad'), null);
        assert.equal(
          await redis.raw.get('twice:corrupt:{twice:bad}'),
          `not json ${round}`,
          `round ${round}`,
        );
      }
      // A valid session written after the read is neither moved nor deleted.
      await store.set('bad', 'valid now', 60);
      assert.deepEqual(await store.quarantine('bad', 'not json 19'), { outcome: 'replaced' });
      assert.equal(await redis.raw.get('twice:bad'), 'valid now');
      assert.equal(await redis.raw.get('twice:corrupt:{twice:bad}'), 'not json 19');
      await store.close();
    });

    it('refuses bytes that are not UTF-8 by the rules of Node, in get() and in the script alike', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'utf8:',
      });
      const hex = [
        'e282ac', // €
        'f09f9ab0', // 🚰
        'efbfbd', // U+FFFD itself, written on purpose
        'c380', // À
        'c080', // overlong
        'e08080', // overlong
        'eda080', // a surrogate
        'f4908080', // past U+10FFFF
        'f5808080',
        '80', // a lone continuation byte
        'e282', // cut short
        'c3', // cut short at the end
        'fe',
      ];
      // Plus short sequences of high bytes from a fixed pseudo-random stream.
      let seed = 7;
      const next = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed;
      };
      for (let i = 0; i < 150; i++) {
        const bytes = Array.from({ length: 1 + (next() % 5) }, () => 0x80 + (next() % 0x80));
        hex.push(Buffer.from(bytes).toString('hex'));
      }
      for (const [i, sequence] of hex.entries()) {
        const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(sequence, 'hex')]);
        await redis.raw.set(`utf8:s${i}`, bytes);
        const valid = isUtf8(bytes);
        if (valid) assert.equal(await store.get(`s${i}`), bytes.toString('utf8'), sequence);
        else await assert.rejects(store.get(`s${i}`), /not UTF-8/, sequence);
        // Without the value, the script moves only what get() refuses.
        const moved = await store.quarantine(`s${i}`);
        assert.equal(moved.outcome, valid ? 'replaced' : 'moved', sequence);
      }
      await store.close();
    });

    it('decides a compare-and-set from the head the codec wrote, never reading the value whole', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'head:',
      });
      const body = 'não funcionou '.repeat(20000); // 280 KB: reading it would show
      after(() => store.close());
      const first = stored(1, body);
      const second = stored(2, body);
      assert.equal((await store.setIf('s', first, 60, { min: 0, max: 0 })).outcome, 'written');
      await redis.raw.configResetStat();
      const same = { min: 1, max: 1, createdAt: at };
      assert.deepEqual(await store.setIf('s', second, 60, same), {
        outcome: 'written',
        storedVersion: 1,
      });
      // The same write again (a retry whose first attempt went through): identical.
      assert.deepEqual(await store.setIf('s', second, 60, same), {
        outcome: 'identical',
        storedVersion: 2,
      });
      // The same version, encoded again (another writer): a conflict, not "identical".
      assert.deepEqual(await store.setIf('s', stored(2, body), 60, same), {
        outcome: 'conflict',
        storedVersion: 2,
      });
      // Another session under the id (created at another time): a conflict.
      const reborn = { min: 2, max: 2, createdAt: '2026-01-01T00:00:00.000Z' };
      assert.equal((await store.setIf('s', stored(3, body), 60, reborn)).outcome, 'conflict');
      const calls = await commandCalls(redis.raw);
      assert.equal(calls.get, undefined, 'no GET');
      assert.equal(calls.strlen, undefined, 'no STRLEN');
      assert.equal(calls.getrange, 4, 'one GETRANGE of the head per call');
      assert.equal(calls.set, 1);
      assert.equal(await redis.raw.get('head:s'), second);
    });

    it('tells two saves of one version apart, even made in the same millisecond', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'twins:',
      });
      after(() => store.close());
      await store.setIf('s', stored(1, 'a torneira pinga'), 60, { min: 0, max: 0 });
      // Same version, same times, same head fields: only the conversation differs.
      const mine = stored(2, 'sim, resolveu');
      const theirs = stored(2, 'não, continua pingando');
      const range = { min: 1, max: 1, createdAt: at };
      assert.equal((await store.setIf('s', mine, 60, range)).outcome, 'written');
      assert.deepEqual(await store.setIf('s', theirs, 60, range), {
        outcome: 'conflict',
        storedVersion: 2,
      });
      assert.equal(await store.get('s'), mine);
    });

    it('reads as much head as it is told, and decides the same', async () => {
      const raw = createClient({ url: redis.server.url(), scripts });
      await raw.connect();
      try {
        const first = stored(1, 'x'.repeat(2000));
        const second = stored(2, 'x'.repeat(2000));
        const setIf = (headBytes: number, value: string, min: number, createdAt = '') =>
          raw.setIf('short:s', value, 60, min, min, createdAt, 262144, headBytes);
        for (const headBytes of [256, HEAD_BYTES]) {
          await raw.set('short:s', first);
          assert.deepEqual(await setIf(headBytes, second, 0, at), [0, 1], `${headBytes}: stale`);
          assert.deepEqual(await setIf(headBytes, second, 1, '2020-01-01T00:00:00.000Z'), [0, 1]);
          assert.deepEqual(await setIf(headBytes, second, 1, at), [1, 1], `${headBytes}: written`);
          assert.deepEqual(await setIf(headBytes, second, 1, at), [2, 2], `${headBytes}: same`);
          assert.deepEqual(await setIf(headBytes, stored(2, 'x'.repeat(2000)), 1, at), [0, 2]);
        }
        // Too short for the write id: the version still comes from the head, and "identical"
        // from comparing the whole value.
        await raw.set('short:s', first);
        assert.deepEqual(await setIf(64, second, 0), [0, 1]);
        assert.deepEqual(await setIf(64, second, 1), [1, 1]);
        assert.deepEqual(await setIf(64, second, 1), [2, 2]);
        assert.deepEqual(await setIf(64, stored(2, 'x'.repeat(2000)), 1), [0, 2]);
      } finally {
        await raw.close();
      }
    });

    it('reads the head of every session a page at a time, and nothing else', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'heads:',
      });
      try {
        const ids = Array.from({ length: 250 }, (_, i) => `h${i}`);
        for (const id of ids) await store.set(id, `${id}:${'x'.repeat(100)}`, 60);
        await redis.raw.hSet('heads:typed', 'field', 'value');
        await redis.raw.set('heads:corrupt:{heads:h1}', 'kept aside');
        await redis.raw.configResetStat();
        const seen = new Map<string, string>();
        let pages = 0;
        let scanned = 0;
        for await (const page of store.heads({ headBytes: 8, count: 40 })) {
          pages++;
          scanned += page.scanned;
          for (const entry of page.entries) seen.set(entry.id, entry.value);
        }
        assert.ok(pages > 1, `${pages} pages`);
        assert.ok(scanned >= 252, `${scanned} keys scanned`);
        assert.deepEqual([...seen.keys()].sort(), [...ids].sort());
        for (const [id, value] of seen) assert.equal(value, `${id}:xxxxxxxx`.slice(0, 8), id);
        const calls = await commandCalls(redis.raw);
        assert.equal(calls.ttl, undefined, 'no TTL');
        assert.equal(calls.get, undefined, 'no GET');
        // At least one GETRANGE for each session key (a page with the hash is read again key by
        // key, to tell which key failed).
        assert.ok(calls.getrange >= 251, `${calls.getrange}`);
        assert.equal(await store.keyCount(), await redis.raw.dbSize());
      } finally {
        await store.close();
      }
    });

    it('treats a key of another Redis type as corrupt, and lists around it', async () => {
      const store = await RedisSessionStore.connect({
        url: redis.server.url(),
        keyPrefix: 'typed:',
      });
      await store.set('good', 'v', 60);
      await redis.raw.hSet('typed:hash', 'field', 'value');
      await assert.rejects(store.get('hash'), SessionCorruptError);
      const page = await store.list({ limit: 1000 });
      assert.deepEqual(
        page.entries.map((e) => e.id),
        ['good'],
      );
      await store.close();
    });
  });
});
