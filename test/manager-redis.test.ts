import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HEAD_BYTES } from '../src/sessions/codec.js';
import { InvalidSessionIdError, SessionConflictError } from '../src/sessions/errors.js';
import { setIf, setIfStamp } from '../src/sessions/stores/redis-scripts.js';
import { captureLogs, openManager, testConfig, testResponder } from './support/fixtures.js';
import { useRedisServer } from './support/redis-fixture.js';
import {
  freePort,
  type RedisServer,
  redisTestOptions,
  startRedisServer,
} from './support/redis-server.js';
import { until } from './support/until.js';

const PASSWORD = 'correct-horse-battery';

describe('SessionManager on Redis', redisTestOptions(), () => {
  const redis = useRedisServer({ password: PASSWORD });

  async function open(env: Record<string, string> = {}) {
    const logs = captureLogs();
    const manager = await openManager({
      config: testConfig({
        USE_REDIS: 'true',
        REDIS_URL: redis.server.url(),
        // A busy machine must not look like a Redis that stopped answering.
        REDIS_COMMAND_TIMEOUT_MS: '5000',
        ...env,
      }),
      logger: logs.logger,
      responder: await testResponder(),
    });
    return { manager, logs };
  }

  it('connects and logs it like the documented example, without the password', async () => {
    const { manager, logs } = await open({ SESSION_TTL: '3600' });
    assert.equal(manager.backend, 'redis');
    const line = logs.records().find((r) => r.event_type === 'redis_connected');
    assert.equal(line?.level, 'INFO');
    assert.equal(line?.message, 'RedisSessionStore inicializado com sucesso');
    assert.equal(line?.component, 'session');
    assert.equal(line?.redis_url, `redis://:***@127.0.0.1:${redis.server.port}/0`);
    assert.equal(line?.default_ttl, 3600);
    assert.ok(logs.lines.every((l) => !l.includes(PASSWORD)));
    await manager.close();
  });

  it('accepts the password from REDIS_HOST/REDIS_PORT/REDIS_PASSWORD', async () => {
    const logs = captureLogs();
    const manager = await openManager({
      config: testConfig({
        USE_REDIS: 'true',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.server.port),
        REDIS_PASSWORD: PASSWORD,
      }),
      logger: logs.logger,
      responder: await testResponder(),
    });
    assert.equal(manager.backend, 'redis');
    assert.ok(logs.lines.every((l) => !l.includes(PASSWORD)));
    await manager.close();
  });

  it('falls back to memory on a wrong password, with the reason and no password in any line', async () => {
    const logs = captureLogs();
    const manager = await openManager({
      config: testConfig({
        USE_REDIS: 'true',
        REDIS_URL: `redis://:wrong-secret@127.0.0.1:${redis.server.port}/0`,
      }),
      logger: logs.logger,
      responder: await testResponder(),
    });
    assert.equal(manager.backend, 'memory');
    const line = logs.records().find((r) => r.event_type === 'redis_fallback');
    assert.equal(line?.level, 'WARNING');
    assert.match(String(line?.reason), /WRONGPASS/);
    assert.match(String(line?.message), /^Falha ao conectar ao Redis, usando MemorySessionStore: /);
    assert.ok(logs.lines.every((l) => !l.includes('wrong-secret')));
    // Still a working session system: new conversations (server-made ids) go on in memory;
    // a chosen id answers 503, since Redis may hold that session.
    const first = await manager.runTurn(undefined, 'a torneira está pingando');
    const history = await manager.history(first.sessionId, { token: first.token });
    assert.equal(history.state, 'waiting_feedback');
    await assert.rejects(manager.runTurn('still-works', 'oi'), /StoreUnavailable|unavailable/i);
    await manager.close();
  });

  it('falls back to memory when nothing listens on the port', async () => {
    const port = await freePort();
    const logs = captureLogs();
    const manager = await openManager({
      config: testConfig({ USE_REDIS: 'true', REDIS_URL: `redis://127.0.0.1:${port}/0` }),
      logger: logs.logger,
      responder: await testResponder(),
    });
    assert.equal(manager.backend, 'memory');
    const line = logs.records().find((r) => r.event_type === 'redis_fallback');
    assert.match(String(line?.reason), /ECONNREFUSED/);
    await manager.close();
  });

  describe('with a frozen Redis', () => {
    let frozen: RedisServer;
    before(async () => {
      frozen = await startRedisServer();
    });
    after(() => frozen?.stop());

    it('falls back to memory within the connect timeout when Redis is frozen', async () => {
      // A server that never answers: the short timeout certainly ends the wait.
      frozen.signal('SIGSTOP');
      const logs = captureLogs();
      const manager = await openManager({
        config: testConfig({
          USE_REDIS: 'true',
          REDIS_URL: frozen.url(),
          REDIS_CONNECT_TIMEOUT_MS: '300',
        }),
        logger: logs.logger,
        responder: await testResponder(),
      });
      assert.equal(manager.backend, 'memory');
      const line = logs.records().find((r) => r.event_type === 'redis_fallback');
      assert.match(String(line?.reason), /no answer within 300 ms/);
      await manager.close();
    });
  });

  it('sets the key TTL to SESSION_TTL on creation and again on every update', async () => {
    const { manager } = await open({ SESSION_TTL: '1234' });
    const agent = await manager.getOrCreateAgent('ttl-check');
    assert.equal(await redis.raw.ttl('cql:session:ttl-check'), 1234);
    await redis.raw.expire('cql:session:ttl-check', 10);
    await agent.chat('a porta está rangendo');
    await manager.updateAgent('ttl-check', agent);
    assert.equal(await redis.raw.ttl('cql:session:ttl-check'), 1234);
    assert.equal(await manager.getTtl('ttl-check'), 1234);
    await manager.close();
  });

  it('stores readable JSON under the configured prefix, in the database of the URL', async () => {
    const { manager } = await open({ REDIS_URL: redis.server.url(3), REDIS_KEY_PREFIX: 'app:' });
    await manager.getOrCreateAgent('in-db-3');
    assert.equal(await redis.raw.exists('app:in-db-3'), 0, 'not in database 0');
    const db3 = redis.raw.duplicate();
    await db3.connect();
    await db3.select(3);
    const stored = JSON.parse((await db3.get('app:in-db-3')) ?? '{}');
    assert.equal(stored.state, 'new_problem');
    assert.equal(stored.schema_version, 1);
    await db3.close();
    await manager.close();
  });

  it('shares sessions between instances and keeps them across restarts', async () => {
    const first = await open();
    const second = await open();
    const agent = await first.manager.getOrCreateAgent('shared');
    await agent.chat('a pia está entupida');
    await first.manager.updateAgent('shared', agent);
    await first.manager.close();
    const seen = await second.manager.getOrCreateAgent('shared');
    assert.equal(seen.state, 'waiting_feedback');
    assert.equal(seen.conversationHistory.length, 2);
    await second.manager.close();
    const restarted = await open();
    assert.equal((await restarted.manager.getOrCreateAgent('shared')).currentAttempt, 1);
    await restarted.manager.close();
  });

  it('saves what it loaded with one comparison in Redis, and refuses a stale save with no write', async () => {
    const first = await open();
    const second = await open();
    const monitor = redis.raw.duplicate();
    try {
      const created = await first.manager.getOrCreateAgent('stamped');
      await created.chat('a torneira está pingando');
      await first.manager.updateAgent('stamped', created);
      const mine = await first.manager.getAgent('stamped');
      const theirs = await second.manager.getAgent('stamped');
      assert.ok(mine && theirs);
      await monitor.connect();
      const seen: string[] = [];
      await monitor.monitor((line) => seen.push(line));
      const sent = (pattern: RegExp) => seen.filter((line) => pattern.test(line));

      await mine.chat('não');
      await first.manager.updateAgent('stamped', mine);
      await until(() => sent(/"SET" "cql:session:stamped"/i).length === 1, 'the save');
      const scripts = sent(/"EVALSHA"/i);
      assert.equal(scripts.length, 1);
      assert.ok(scripts[0]?.includes(`"${setIfStamp.SHA1}"`), 'the stamp script alone');
      const [read] = sent(/"GETRANGE" "cql:session:stamped"/i);
      const end = Number(/"0" "(\d+)"/.exec(read ?? '')?.[1]);
      assert.ok(end > 0 && end < HEAD_BYTES - 1, `the stamp's bytes, not the whole head (${read})`);

      // The other instance read the same version: its save meets a newer one and writes nothing.
      await theirs.chat('sim');
      await assert.rejects(second.manager.updateAgent('stamped', theirs), SessionConflictError);
      await until(() => sent(/"EVALSHA"/i).length === 3, 'the stamp, then the version, deciding');
      assert.ok(sent(/"EVALSHA"/i)[2]?.includes(`"${setIf.SHA1}"`));
      assert.equal(sent(/"SET" "cql:session:stamped"/i).length, 1, 'nothing written');
      const stored = await first.manager.getAgent('stamped');
      assert.equal(stored?.currentAttempt, 2);
      assert.equal(stored?.conversationHistory.at(-2)?.content, 'não');
    } finally {
      if (monitor.isOpen) await monitor.close();
      await first.manager.close();
      await second.manager.close();
    }
  });

  it('skips corrupt values in listings, and on load moves them aside for 7 days and starts over', async () => {
    const { manager, logs } = await open({ REDIS_KEY_PREFIX: 'corrupt-test:' });
    await manager.getOrCreateAgent('fine');
    const bad = {
      'not-json': '\x80\x04\x95pickle',
      'wrong-shape': '{"schema_version":1,"state":42}',
      'future-version': '{"schema_version":7}',
      'empty-object': '{}',
    };
    for (const [id, value] of Object.entries(bad)) await redis.raw.set(`corrupt-test:${id}`, value);
    await redis.raw.hSet('corrupt-test:a-hash', 'field', 'value');
    assert.deepEqual(
      (await manager.listSessions()).map((s) => s.sessionId),
      ['fine'],
    );
    for (const id of [...Object.keys(bad), 'a-hash']) {
      const agent = await manager.getOrCreateAgent(id);
      assert.equal(agent.state, 'new_problem', id);
      assert.equal(agent.conversationHistory.length, 0, id);
    }
    const aside = (id: string) => `corrupt-test:corrupt:{corrupt-test:${id}}`;
    for (const [id, value] of Object.entries(bad)) {
      assert.equal(await redis.raw.get(aside(id)), value, 'kept for inspection');
      const ttl = await redis.raw.ttl(aside(id));
      assert.ok(ttl > 7 * 24 * 3600 - 60 && ttl <= 7 * 24 * 3600, `7 days (${ttl})`);
    }
    assert.equal(await redis.raw.hGet(aside('a-hash'), 'field'), 'value');
    const listed = (await manager.listSessions()).map((s) => s.sessionId);
    assert.deepEqual(listed, [
      'a-hash',
      'empty-object',
      'fine',
      'future-version',
      'not-json',
      'wrong-shape',
    ]);
    const moved = logs
      .records()
      .filter((r) => r.event_type === 'session_corrupt' && r.quarantine === 'moved');
    assert.deepEqual(
      moved.map((r) => [r.session_id, r.quarantined_as, r.level]),
      [...Object.keys(bad), 'a-hash'].map((id) => [id, aside(id), 'ERROR']),
      'one line each, naming the key it was moved to',
    );
    await manager.close();
  });

  it('never sends KEYS, and sends nothing for a hostile id', async () => {
    const { manager } = await open({ REDIS_KEY_PREFIX: 'stats:' });
    await redis.raw.configResetStat();
    for (let i = 0; i < 20; i++) await manager.getOrCreateAgent(`user-${i}`);
    await manager.listSessions();
    await manager.deleteSession('user-0');
    await manager.getTtl('user-1');
    const before = await redis.raw.info('commandstats');
    for (const id of ['*', '../etc/passwd', 'a b', 'x'.repeat(10240)]) {
      await assert.rejects(manager.getOrCreateAgent(id), InvalidSessionIdError);
      await assert.rejects(manager.deleteSession(id), InvalidSessionIdError);
    }
    const afterStats = await redis.raw.info('commandstats');
    assert.doesNotMatch(afterStats, /cmdstat_keys:/);
    assert.match(afterStats, /cmdstat_scan:/);
    const calls = (stats: string) => stats.match(/cmdstat_(get|unlink|set):calls=\d+/g)?.join(',');
    assert.equal(calls(afterStats), calls(before), 'no command was sent for a hostile id');
    await manager.close();
  });
});
