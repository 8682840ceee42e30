/**
 * The Redis store on Redis's distributed and secured set-ups, each a real server started here:
 * a 3-master Cluster, a master with a replica and three sentinels, a TLS-only server, and a
 * server with ACL users.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createClient, createCluster } from '@redis/client';
import { ConfigError } from '../src/config.js';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import { openStore, redisStoreOptions } from '../src/sessions/open-store.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { CONTRACT_MAX_VALUE_BYTES, runStoreContract } from './store-contract.js';
import { captureLogs, openManager, testConfig, testResponder } from './support/fixtures.js';
import { type RedisCluster, startRedisCluster } from './support/redis-cluster.js';
import { type SentinelSetup, startSentinelSetup } from './support/redis-sentinel.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import {
  makeCertificates,
  removeCertificates,
  startTlsRedisServer,
  type TlsFiles,
  type TlsRedisServer,
} from './support/redis-tls.js';
import { until } from './support/until.js';

const nodeList = (nodes: readonly { host: string; port: number }[]) =>
  nodes.map((node) => `${node.host}:${node.port}`).join(',');

async function managerFor(env: Record<string, string>) {
  const logs = captureLogs('info');
  const config = testConfig({
    USE_REDIS: 'true',
    REDIS_CONNECT_TIMEOUT_MS: '3000',
    // A busy machine must not look like a Redis that stopped answering.
    REDIS_COMMAND_TIMEOUT_MS: '5000',
    ...env,
  });
  const manager = await openManager({
    config,
    logger: logs.logger,
    responder: await testResponder(),
  });
  return { manager, logs, config };
}

describe('Redis Cluster', redisTestOptions(), () => {
  let cluster: RedisCluster;
  const password = 'cluster-secret';
  let prefixes = 0;
  before(async () => {
    cluster = await startRedisCluster({ masters: 3, password });
  });
  after(() => cluster.stop());
  const url = () => cluster.url();
  const open = (keyPrefix: string) =>
    RedisSessionStore.connect({
      url: url(),
      cluster: { nodes: cluster.nodes },
      keyPrefix,
      maxValueBytes: CONTRACT_MAX_VALUE_BYTES,
    });

  runStoreContract('redis cluster', { open: () => open(`contract:${++prefixes}:`) });

  it('keeps the documented key names, spread over every master', async () => {
    const store = await open('cql:session:');
    for (let i = 0; i < 60; i++) await store.set(`user-${i}`, `{"n":${i}}`, 600);
    const raw = createCluster({ rootNodes: [{ url: url() }], defaults: { password } });
    await raw.connect();
    assert.equal(await raw.get('cql:session:user-7'), '{"n":7}');
    const perNode = await Promise.all(
      raw.masters.map(async (master) => {
        const node = await raw.nodeClient(master);
        let count = 0;
        for await (const keys of node.scanIterator({ MATCH: 'cql:session:*' }))
          count += keys.length;
        return count;
      }),
    );
    await raw.close();
    assert.equal(
      perNode.reduce((a, b) => a + b, 0),
      60,
    );
    assert.ok(
      perNode.every((n) => n > 0),
      `each master holds some sessions: ${perNode}`,
    );
    assert.equal((await store.purge()).length, 60);
    await store.close();
  });

  it('lists sessions across all masters, page by page, and runs whole conversations', async () => {
    const { manager, config } = await managerFor({
      REDIS_URL: url(),
      REDIS_CLUSTER_NODES: nodeList(cluster.nodes),
      REDIS_KEY_PREFIX: 'conv:',
    });
    assert.equal(manager.backend, 'redis');
    const ids = Array.from({ length: 150 }, (_, i) => `conversa-${i}`);
    await Promise.all(ids.map((id) => manager.withSession(id, (a) => a.chat('a torneira pinga'))));
    // Ten turns at once on one session: compare-and-set keeps every one of them.
    await manager.withSession('disputada', (agent) => agent.chat('o chuveiro não esquenta'));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        manager.withSession('disputada', (agent) => agent.chat(`talvez ${i}`)),
      ),
    );
    const listed = await manager.listSessions();
    assert.equal(listed.length, 151);
    assert.deepEqual(new Set(listed.map((s) => s.sessionId)), new Set([...ids, 'disputada']));
    assert.ok(listed.every((s) => s.state === 'waiting_feedback' || s.sessionId === 'disputada'));
    const agent = await manager.getAgent('disputada');
    assert.equal(agent?.conversationHistory.length, 22);

    const store = await RedisSessionStore.connect(
      redisStoreOptions(config, captureLogs('silent').logger),
    );
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ cursor, limit: 10 });
      for (const entry of page.entries) seen.add(entry.id);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 500);
    assert.equal(seen.size, 151);
    assert.ok(pages >= 3, `one page per master at least (${pages})`);
    const status = await store.status();
    assert.equal(status.connected, true);
    assert.ok((status.usedMemoryBytes ?? 0) > 0);
    assert.equal(status.topology, 'cluster');
    await store.close();
    await manager.close();
  });

  it('starts a listing over from a cursor of a node that is no longer a master', async () => {
    const store = await open('stale:');
    await store.set('kept', 'v', 60);
    const page = await store.list({ cursor: 'redis:127.0.0.1:1:0' });
    const masters = cluster.nodes.map((node) => `${node.host}:${node.port}`);
    assert.ok(
      page.cursor !== undefined && masters.some((m) => page.cursor?.startsWith(`redis:${m}:`)),
      `the next page is on a current master (${page.cursor})`,
    );
    const seen = new Set(page.entries.map((entry) => entry.id));
    let cursor: string | undefined = page.cursor;
    while (cursor !== undefined) {
      const next = await store.list({ cursor });
      for (const entry of next.entries) seen.add(entry.id);
      cursor = next.cursor;
    }
    assert.deepEqual([...seen], ['kept']);
    await store.purge();
    await store.close();
  });

  it('quarantines a corrupt value by renaming it within its slot, whatever its size', async () => {
    for (const prefix of ['q:', '{app}:s:']) {
      const { manager, logs } = await managerFor({
        REDIS_URL: url(),
        REDIS_CLUSTER_NODES: nodeList(cluster.nodes),
        REDIS_KEY_PREFIX: prefix,
      });
      const raw = createCluster({ rootNodes: [{ url: url() }], defaults: { password } });
      await raw.connect();
      const aside = (id: string) =>
        prefix === 'q:' ? `q:corrupt:{q:${id}}` : `{app}:s:corrupt:${id}`;
      await raw.set(`${prefix}quebrada`, '{"schema_version":1, nope', { EX: 600 });
      const huge = 'z'.repeat(5 * 1024 * 1024);
      await raw.set(`${prefix}enorme`, huge, { EX: 600 });
      assert.equal((await manager.getOrCreateAgent('quebrada')).state, 'new_problem');
      assert.equal((await manager.getOrCreateAgent('enorme')).state, 'new_problem');
      assert.equal(await raw.get(aside('quebrada')), '{"schema_version":1, nope', prefix);
      assert.equal(await raw.strLen(aside('enorme')), huge.length, prefix);
      // The sessions started over under the same keys: valid new ones.
      assert.match(
        (await raw.get(`${prefix}quebrada`)) ?? '',
        /^\{"schema_version":1,"version":1,/,
      );
      assert.equal(manager.backend, 'redis');
      const lines = logs.records().filter((r) => r.event_type === 'session_corrupt');
      assert.deepEqual(
        lines.map((r) => r.quarantined_as),
        [aside('quebrada'), aside('enorme')],
      );
      await raw.close();
      await manager.close();
    }
  });

  it('refuses at start-up a prefix whose braces would split a session from its quarantine', () => {
    const config = testConfig({
      USE_REDIS: 'true',
      REDIS_URL: url(),
      REDIS_CLUSTER_NODES: nodeList(cluster.nodes),
      REDIS_KEY_PREFIX: 'a{b:',
    });
    assert.throws(
      () => redisStoreOptions(config, captureLogs().logger),
      (error) => error instanceof ConfigError && /REDIS_KEY_PREFIX/.test(error.message),
    );
  });

  it('refuses a database other than 0 at start-up', () => {
    assert.throws(
      () => testConfig({ REDIS_URL: `${url()}/2`, REDIS_CLUSTER_NODES: nodeList(cluster.nodes) }),
      (error) =>
        error instanceof ConfigError && /REDIS_CLUSTER_NODES: .*\b0\b.*\b2\b/.test(error.message),
    );
  });
});

describe('Redis Sentinel', redisTestOptions(), () => {
  let setup: SentinelSetup;
  const password = 'sentinel-secret';
  before(async () => {
    setup = await startSentinelSetup({ name: 'sessions', password });
  });
  after(() => setup.stop());

  it('finds the master, and saves succeed again after it is killed', async () => {
    const { manager, logs, config } = await managerFor({
      REDIS_SENTINELS: nodeList(setup.sentinels),
      REDIS_SENTINEL_NAME: 'sessions',
      REDIS_PASSWORD: password,
    });
    assert.equal(manager.backend, 'redis');
    await manager.withSession('antes', (agent) => agent.chat('a torneira pinga'));
    const started = logs.records().find((r) => r.event_type === 'redis_connected');
    assert.equal(started?.redis_topology, 'sentinel');
    assert.match(String(started?.redis_nodes), /^sentinel sessions at /);
    await manager.close();

    // The store itself, without the memory copy the manager would continue on.
    const store = await RedisSessionStore.connect({
      ...redisStoreOptions(config, captureLogs().logger),
      commandTimeoutMs: 1000,
    });
    await store.set('antes-da-queda', 'v1', 600);
    const master = setup.master;
    const raw = createClient({ socket: { port: master.port, host: '127.0.0.1' }, password });
    await raw.connect();
    await raw.sendCommand(['WAIT', '1', '2000']); // replicated before the crash
    await raw.close();

    // A manager (Redis with its memory copy) through the same failover.
    const following = await managerFor({
      REDIS_SENTINELS: nodeList(setup.sentinels),
      REDIS_SENTINEL_NAME: 'sessions',
      REDIS_PASSWORD: password,
    });

    setup.killMaster();
    let lastFailure = '';
    await until(
      async () => {
        try {
          await store.set('depois', 'v2', 600);
          return true;
        } catch (error) {
          lastFailure = String(error);
          return false;
        }
      },
      () => `a save after the master's death (last failure: ${lastFailure})`,
      60000,
      200,
    );
    const now = await setup.currentMaster();
    assert.notEqual(now.port, master.port, 'the replica was promoted');
    const promoted = createClient({ socket: { port: now.port, host: now.host }, password });
    await promoted.connect();
    assert.equal(await promoted.get('cql:session:depois'), 'v2', 'written on the new master');
    assert.equal(await promoted.get('cql:session:antes'), await store.get('antes'));
    assert.notEqual(await store.get('antes'), null);
    // The manager went on in memory, then back to Redis: what it wrote meanwhile is there.
    await following.manager.withSession('durante', (agent) => agent.chat('a porta range'));
    await until(() => following.manager.backend === 'redis', 'the manager back on Redis');
    assert.equal(await promoted.exists('cql:session:durante'), 1);
    await following.manager.close();
    await promoted.close();
    await store.close();
  });

  it('uses the configured database on the master', async () => {
    const { manager } = await managerFor({
      REDIS_SENTINELS: nodeList(setup.sentinels),
      REDIS_SENTINEL_NAME: 'sessions',
      REDIS_PASSWORD: password,
      REDIS_DB: '3',
    });
    await manager.withSession('no-banco-3', (agent) => agent.chat('a torneira pinga'));
    const master = await setup.currentMaster();
    const raw = createClient({
      socket: { port: master.port, host: master.host },
      password,
      database: 3,
    });
    await raw.connect();
    assert.equal(await raw.exists('cql:session:no-banco-3'), 1);
    await raw.select(0);
    assert.equal(await raw.exists('cql:session:no-banco-3'), 0);
    await raw.close();
    await manager.close();
  });

  it('names the master it could not find', async () => {
    const config = testConfig({
      USE_REDIS: 'true',
      REDIS_SENTINELS: nodeList(setup.sentinels),
      REDIS_SENTINEL_NAME: 'no-such-master',
      REDIS_PASSWORD: password,
    });
    await assert.rejects(
      RedisSessionStore.connect(redisStoreOptions(config, captureLogs().logger)),
      StoreUnavailableError,
    );
  });
});

describe('TLS', redisTestOptions(), () => {
  let files: TlsFiles;
  let server: TlsRedisServer;
  let plain: RedisServer;
  before(async () => {
    files = makeCertificates();
    server = await startTlsRedisServer(files, { requireClientCert: true });
    plain = await startRedisServer();
  });
  after(async () => {
    await server.stop();
    await plain.stop();
    removeCertificates(files);
  });

  const tlsEnv = (ca: string) => ({
    REDIS_URL: server.url(),
    REDIS_TLS_CA: ca,
    REDIS_TLS_CERT: files.clientCert,
    REDIS_TLS_KEY: files.clientKey,
  });

  it('connects with the private CA and a client certificate', async () => {
    const { manager } = await managerFor(tlsEnv(files.caCert));
    assert.equal(manager.backend, 'redis');
    await manager.withSession('segura', (agent) => agent.chat('a torneira pinga'));
    assert.equal((await manager.getAgent('segura'))?.currentAttempt, 1);
    await manager.close();
  });

  it('refuses a server whose certificate the CA did not sign, and falls back to memory', async () => {
    const config = testConfig({ USE_REDIS: 'true', ...tlsEnv(files.otherCaCert) });
    const logger = captureLogs('info');
    await assert.rejects(
      RedisSessionStore.connect(redisStoreOptions(config, logger.logger)),
      (error) =>
        error instanceof StoreUnavailableError && /TLS handshake failed/.test(error.message),
    );
    const store = await openStore(config, logger.logger);
    assert.equal(store.name, 'memory');
    const fallback = logger.records().find((r) => r.event_type === 'redis_fallback');
    assert.match(String(fallback?.reason), /TLS handshake failed: .*certificate/);
    await store.close();
  });

  it('refuses a client without a certificate when the server asks for one', async () => {
    const config = testConfig({
      USE_REDIS: 'true',
      REDIS_URL: server.url(),
      REDIS_TLS_CA: files.caCert,
    });
    await assert.rejects(
      RedisSessionStore.connect(redisStoreOptions(config, captureLogs().logger)),
      StoreUnavailableError,
    );
  });

  it('never speaks plain text to a TLS port, nor TLS to a plain one', async () => {
    const plainUrl = server.url().replace('rediss://', 'redis://');
    await assert.rejects(
      RedisSessionStore.connect({ url: plainUrl, connectTimeoutMs: 1500 }),
      (error) =>
        error instanceof StoreUnavailableError && /rediss:\/\/|no answer/.test(error.message),
    );
    await assert.rejects(
      RedisSessionStore.connect({
        url: plain.url().replace('redis://', 'rediss://'),
        tls: { ca: files.caCert },
        connectTimeoutMs: 1500,
      }),
      StoreUnavailableError,
    );
  });

  it('refuses TLS files with a redis:// URL instead of connecting in plain text', () => {
    assert.throws(
      () => testConfig({ REDIS_URL: plain.url(), REDIS_TLS_CA: files.caCert }),
      /REDIS_TLS_CA.*rediss:\/\//,
    );
    assert.throws(
      () => testConfig({ REDIS_TLS_CA: '/no/such/ca.pem' }),
      /REDIS_TLS_CA .*"\/no\/such\/ca\.pem"/,
    );
    assert.throws(
      () => testConfig({ REDIS_URL: server.url(), REDIS_TLS_CERT: files.clientCert }),
      /REDIS_TLS_CERT e REDIS_TLS_KEY/,
    );
  });
});

/** The ACL rule docs/topologies.md gives, after the user name and password. */
function documentedAclRule(): string {
  const docs = readFileSync(new URL('../docs/topologies.md', import.meta.url), 'utf8');
  const rule = /`ACL SETUSER sessions on >password ([^`]+)`/.exec(docs)?.[1];
  assert.ok(rule, 'docs/topologies.md gives the ACL rule');
  return rule;
}

describe('ACL users', redisTestOptions(), () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer({
      // The user docs/topologies.md documents: its prefix only, exactly the commands the
      // service sends.
      aclUsers: ['default off', `sessions on >s3nha-forte ${documentedAclRule()}`],
    });
  });
  after(() => server.stop());
  const at = (credentials: string) => `redis://${credentials}@127.0.0.1:${server.port}/0`;

  it('connects as a named user, from the URL or from REDIS_USERNAME', async () => {
    const envs: Record<string, string>[] = [
      { REDIS_URL: at('sessions:s3nha-forte') },
      {
        REDIS_URL: `redis://127.0.0.1:${server.port}/0`,
        REDIS_USERNAME: 'sessions',
        REDIS_PASSWORD: 's3nha-forte',
      },
    ];
    for (const env of envs) {
      const { manager } = await managerFor(env);
      assert.equal(manager.backend, 'redis');
      await manager.withSession('acl', (agent) => agent.chat('a torneira pinga'));
      assert.equal((await manager.listSessions()).length, 1);
      assert.equal((await manager.status()).connected, true);
      await manager.deleteSession('acl');
      await manager.close();
    }
  });

  it('quarantines a corrupt value with the documented permissions', async () => {
    const { manager } = await managerFor({ REDIS_URL: at('sessions:s3nha-forte') });
    const raw = createClient({ url: at('sessions:s3nha-forte') });
    await raw.connect();
    await raw.set('cql:session:torta', 'not json', { EX: 600 });
    assert.equal((await manager.getOrCreateAgent('torta')).state, 'new_problem');
    assert.equal(await raw.get('cql:session:corrupt:{cql:session:torta}'), 'not json');
    await raw.close();
    await manager.close();
  });

  it('reports a wrong password or user as an authentication error', async () => {
    for (const credentials of ['sessions:errada', 'ninguem:s3nha-forte', ':s3nha-forte']) {
      await assert.rejects(
        RedisSessionStore.connect({ url: at(credentials) }),
        (error) =>
          error instanceof StoreUnavailableError &&
          /authentication failed/.test(error.message) &&
          !error.message.includes('s3nha-forte'),
        credentials,
      );
    }
  });
});
