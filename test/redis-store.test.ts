import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionCorruptError, StoreUnavailableError } from '../src/sessions/errors.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { runStoreContract } from './store-contract.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions, startRedisServer } from './support/redis-server.js';

describe('redis store', redisTestOptions(), () => {
  const redis = useRedisServer();
  let prefixes = 0;

  // Each contract test gets its own key prefix on the shared server: isolated, nothing to flush.
  runStoreContract('redis', {
    open: () =>
      RedisSessionStore.connect({ url: redis.server.url(), keyPrefix: `contract:${++prefixes}:` }),
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
        await Promise.all([
          store.quarantine('bad', `not json ${round}`),
          store.quarantine('bad', `not json ${round}`),
        ]);
        assert.equal(await redis.raw.get('twice:bad'), null);
        assert.equal(
          await redis.raw.get('twice:corrupt:bad'),
          `not json ${round}`,
          `round ${round}`,
        );
      }
      // A valid session written after the read is neither copied nor deleted.
      await store.set('bad', 'valid now', 60);
      await store.quarantine('bad', 'not json 19');
      assert.equal(await redis.raw.get('twice:bad'), 'valid now');
      assert.equal(await redis.raw.get('twice:corrupt:bad'), 'not json 19');
      await store.close();
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
