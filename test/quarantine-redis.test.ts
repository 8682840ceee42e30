/**
 * Hostile values under a session key, on a real redis-server, through the application's own
 * wiring (Redis with failover to memory): an empty string, 50 MB of random bytes, an old binary
 * pickle, a key of another type, garbage met while writing back after an outage, and a value
 * replaced by a valid session while it was being judged. Each is moved aside whole, or left
 * alone when it is no longer there, the session works again at the next request, the log says
 * what happened in one line, and nothing else is read, changed or lost.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RESP_TYPES } from '@redis/client';
import { createApp } from '../src/app.js';
import { SessionManager } from '../src/sessions/manager.js';
import { openStore } from '../src/sessions/open-store.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import type { SessionStore } from '../src/sessions/types.js';
import { QUARANTINE_TTL_SECONDS } from '../src/sessions/types.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { startProxy, type TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

const chat = (manager: SessionManager, id: string, message: string) =>
  manager.withSession(id, (agent) => agent.chat(message));

describe('hostile values under a session key', redisTestOptions(), () => {
  const redis = useRedisServer();
  let prefixes = 0;

  /** The application on the test's server, under a prefix of its own. */
  async function appOn(env: Record<string, string> = {}) {
    const logs = captureLogs('info');
    const prefix = `hostile${++prefixes}:`;
    const config = testConfig({
      USE_REDIS: 'true',
      REDIS_URL: redis.server.url(),
      REDIS_KEY_PREFIX: prefix,
      // A busy machine must not look like a Redis that stopped answering.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      ...env,
    });
    const app = await createApp({ config, logger: logs.logger, responder: await testResponder() });
    const corrupt = () => logs.records().filter((r) => r.event_type === 'session_corrupt');
    const events = (type: string) => logs.records().filter((r) => r.event_type === type);
    return { app, manager: app.manager, logs, prefix, corrupt, events };
  }

  const binary = () => redis.raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const netOutput = async () =>
    Number(/total_net_output_bytes:(\d+)/.exec(await redis.raw.info('stats'))?.[1]);
  const keptAWeek = async (key: string) => {
    const ttl = await redis.raw.ttl(key);
    assert.ok(ttl > QUARANTINE_TTL_SECONDS - 60 && ttl <= QUARANTINE_TTL_SECONDS, `ttl ${ttl}`);
  };

  it('an empty string: moved aside, and the session answers at once (no 409, one log line)', async () => {
    const { app, manager, prefix, corrupt, events } = await appOn();
    try {
      await redis.raw.set(`${prefix}vazia`, '', { EX: 600 });
      await chat(manager, 'vazia', 'a torneira está pingando');
      assert.equal((await manager.getAgent('vazia'))?.state, 'waiting_feedback');
      const quarantined = `${prefix}corrupt:{${prefix}vazia}`;
      assert.equal(await redis.raw.get(quarantined), '', 'the empty value is kept');
      await keptAWeek(quarantined);
      const lines = corrupt();
      assert.equal(lines.length, 1, 'one line for one unreadable value');
      assert.equal(lines[0]?.level, 'ERROR');
      assert.equal(lines[0]?.quarantine, 'moved');
      assert.equal(lines[0]?.quarantined_as, quarantined);
      assert.equal(events('session_conflict').length, 0, 'no turn ran against the empty value');
      // The next request goes on with the new session, and nothing more is quarantined.
      await chat(manager, 'vazia', 'não');
      assert.equal((await manager.getAgent('vazia'))?.currentAttempt, 2);
      assert.equal(corrupt().length, 1);
      assert.equal(manager.backend, 'redis');
    } finally {
      await app.close();
    }
  });

  it('50 MB of random bytes: renamed aside whole, never read, no failover', async () => {
    // The production deadline: no command may come near it, as reading the value would.
    const { app, manager, prefix, corrupt, events } = await appOn({
      REDIS_COMMAND_TIMEOUT_MS: '500',
    });
    try {
      await chat(manager, 'vizinha', 'o disjuntor cai');
      const neighbour = await redis.raw.get(`${prefix}vizinha`);
      const garbage = randomBytes(50 * 1024 * 1024);
      await redis.raw.set(`${prefix}enorme`, garbage, { EX: 600 });
      await redis.raw.configResetStat();
      const sentBefore = await netOutput();

      const agent = await manager.getOrCreateAgent('enorme');

      const sent = (await netOutput()) - sentBefore;
      assert.ok(sent < 1024 * 1024, `Redis sent ${sent} bytes for the load, not the 50 MB value`);
      assert.equal(agent.state, 'new_problem');
      assert.equal(manager.backend, 'redis', 'no command timed out: still on Redis');
      assert.equal(events('redis_unavailable').length, 0);
      const stats = await redis.raw.info('commandstats');
      assert.doesNotMatch(stats, /cmdstat_(dump|restore):/, 'moved, not copied');
      assert.match(stats, /cmdstat_rename:calls=1,/);
      const quarantined = `${prefix}corrupt:{${prefix}enorme}`;
      assert.equal(await redis.raw.strLen(quarantined), garbage.length);
      const digest = await redis.raw.eval("return redis.sha1hex(redis.call('GET', KEYS[1]))", {
        keys: [quarantined],
      });
      assert.equal(digest, createHash('sha1').update(garbage).digest('hex'), 'kept byte for byte');
      await keptAWeek(quarantined);
      const [line, ...others] = corrupt();
      assert.equal(others.length, 0);
      assert.equal(line?.quarantine, 'moved');
      assert.match(String(line?.reason), /larger than 262144 bytes/);
      // The session works, and its neighbour is untouched.
      await chat(manager, 'enorme', 'a pia está entupida');
      assert.equal((await manager.getAgent('enorme'))?.state, 'waiting_feedback');
      assert.equal(await redis.raw.get(`${prefix}vizinha`), neighbour);
    } finally {
      await app.close();
    }
  });

  it('bytes that are not UTF-8 (a pickle from the original app): moved aside byte for byte', async () => {
    const { app, manager, prefix, corrupt } = await appOn();
    try {
      // pickle protocol 4 of {'state': 'new_problem'}, plus bytes no UTF-8 decoder accepts.
      const pickle = Buffer.concat([
        Buffer.from(
          '80049520000000000000007d948c057374617465948c0b6e65775f70726f626c656d9473',
          'hex',
        ),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x2e]),
      ]);
      await redis.raw.set(`${prefix}pickle`, pickle, { EX: 600 });
      await chat(manager, 'pickle', 'a porta está rangendo');
      assert.equal((await manager.getAgent('pickle'))?.state, 'waiting_feedback');
      const kept = await binary().get(`${prefix}corrupt:{${prefix}pickle}`);
      assert.ok(Buffer.isBuffer(kept) && kept.equals(pickle), 'the exact bytes are kept');
      const lines = corrupt();
      assert.equal(lines.length, 1);
      assert.match(String(lines[0]?.reason), /not UTF-8/);
      assert.equal(lines[0]?.quarantine, 'moved');
    } finally {
      await app.close();
    }
  });

  it('a key of another Redis type: renamed aside as it is', async () => {
    const { app, manager, prefix, corrupt } = await appOn();
    try {
      await redis.raw.rPush(`${prefix}lista`, ['um', 'dois']);
      assert.equal((await manager.getOrCreateAgent('lista')).state, 'new_problem');
      const quarantined = `${prefix}corrupt:{${prefix}lista}`;
      assert.deepEqual(await redis.raw.lRange(quarantined, 0, -1), ['um', 'dois']);
      await keptAWeek(quarantined);
      assert.equal(corrupt()[0]?.quarantine, 'moved');
    } finally {
      await app.close();
    }
  });

  describe('behind a proxy that cuts it off', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startProxy(redis.server.port);
    });
    after(() => proxy?.close());

    it('garbage met while writing back after an outage is moved aside, not written over', async () => {
      const logs = captureLogs('info');
      const prefix = `outage${++prefixes}:`;
      // A cut connection fails its commands whatever the deadline; a busy machine must not.
      const config = testConfig({
        USE_REDIS: 'true',
        REDIS_URL: `redis://127.0.0.1:${proxy.port}/0`,
        REDIS_KEY_PREFIX: prefix,
        REDIS_COMMAND_TIMEOUT_MS: '2000',
      });
      const store = await openStore(config, logs.logger);
      const manager = new SessionManager({
        store,
        config,
        logger: logs.logger,
        responder: await testResponder(),
      });
      try {
        await chat(manager, 'volta', 'o chuveiro não esquenta');
        proxy.cut();
        await chat(manager, 'volta', 'não');
        assert.equal(manager.backend, 'memory');
        // Meanwhile something writes garbage under the key, straight to Redis.
        await redis.raw.set(`${prefix}volta`, 'lixo de outra ferramenta', { EX: 600 });
        proxy.restore();
        await until(() => manager.backend === 'redis', 'the switch back to Redis');
        assert.equal(
          await redis.raw.get(`${prefix}corrupt:{${prefix}volta}`),
          'lixo de outra ferramenta',
        );
        assert.equal((await manager.getAgent('volta'))?.currentAttempt, 2, 'written back');
        const line = logs.records().find((r) => r.event_type === 'session_corrupt');
        assert.equal(line?.quarantine, 'moved');
        const recovered = logs.records().find((r) => r.event_type === 'redis_recovered');
        assert.equal(recovered?.written_back, 1);
        assert.equal(recovered?.conflicts, 0);
      } finally {
        await manager.close();
      }
    });
  });

  it('a value replaced by a valid session while it was judged: left alone, and the log says so', async () => {
    const logs = captureLogs('info');
    const prefix = `raced${++prefixes}:`;
    const config = testConfig({ USE_REDIS: 'true', REDIS_KEY_PREFIX: prefix });
    const redisStore = await RedisSessionStore.connect({
      url: redis.server.url(),
      keyPrefix: prefix,
      commandTimeoutMs: 5000,
    });
    const manager = new SessionManager({
      store: racingWriter(redisStore, async () => {
        // Another instance writes a valid session between the read and the quarantine.
        await redis.raw.set(`${prefix}disputada`, (await redis.raw.get(`${prefix}modelo`)) ?? '');
      }),
      config,
      logger: logs.logger,
      responder: await testResponder(),
    });
    try {
      await chat(manager, 'modelo', 'a torneira está pingando');
      await redis.raw.set(`${prefix}disputada`, 'não é json', { EX: 600 });
      const agent = await manager.getOrCreateAgent('disputada');
      assert.equal(agent.state, 'waiting_feedback', 'the valid session written meanwhile');
      assert.equal(await redis.raw.exists(`${prefix}corrupt:{${prefix}disputada}`), 0);
      const lines = logs.records().filter((r) => r.event_type === 'session_corrupt');
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.quarantine, 'replaced');
      assert.equal(lines[0]?.quarantined_as, undefined, 'no key is claimed');
      assert.match(String(lines[0]?.message), /não foi movida/);
    } finally {
      await manager.close();
    }
  });
});

/** The store, with `race` run once, right after the first read of an unreadable value. */
function racingWriter(store: SessionStore, race: () => Promise<void>): SessionStore {
  let raced = false;
  return {
    get name() {
      return store.name;
    },
    get connected() {
      return store.connected;
    },
    get: async (id) => {
      const value = await store.get(id);
      if (!raced && value?.startsWith('não é json')) {
        raced = true;
        await race();
      }
      return value;
    },
    set: (id, value, ttl) => store.set(id, value, ttl),
    setIf: (id, value, ttl, range) => store.setIf(id, value, ttl, range),
    quarantine: (id, unreadable) => store.quarantine(id, unreadable),
    delete: (id) => store.delete(id),
    exists: (id) => store.exists(id),
    ttl: (id) => store.ttl(id),
    list: (options) => store.list(options),
    status: () => store.status(),
    close: () => store.close(),
  };
}
