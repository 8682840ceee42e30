/** The test helpers for Redis Cluster, Sentinel, TLS and ACL users work against real servers,
 * and leave no process behind. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createClient, createCluster, createSentinel } from '@redis/client';
import { startRedisCluster } from './support/redis-cluster.js';
import { startSentinelSetup } from './support/redis-sentinel.js';
import { redisTestOptions, startRedisServer } from './support/redis-server.js';
import {
  makeCertificates,
  removeCertificates,
  startTlsRedisServer,
  type TlsFiles,
} from './support/redis-tls.js';
import { until } from './support/until.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedisCluster', redisTestOptions(), () => {
  it('starts three masters that createCluster uses, and stops them all', async () => {
    const cluster = await startRedisCluster();
    try {
      assert.equal(cluster.nodes.length, 3);
      assert.equal(new Set(cluster.nodes.map((node) => node.port)).size, 3);
      assert.ok(cluster.nodes.every((node) => node.port !== 6379));
      assert.equal(cluster.url(), `redis://127.0.0.1:${cluster.nodes[0]?.port}`);
      const client = createCluster({ rootNodes: [{ url: cluster.url() }] });
      await client.connect();
      try {
        // Keys in every slot range: each master takes writes.
        for (let i = 0; i < 30; i++) await client.set(`key:${i}`, String(i));
        assert.equal(await client.get('key:17'), '17');
        assert.equal(client.masters.length, 3);
      } finally {
        await client.close();
      }
    } finally {
      await cluster.stop();
    }
    for (const pid of cluster.pids) assert.equal(alive(pid), false, `node ${pid} still runs`);
  });

  it('requires its password, and kills a single node by index', async () => {
    const password = 'cluster pw';
    const cluster = await startRedisCluster({ password });
    try {
      assert.equal(cluster.url(), `redis://:cluster%20pw@127.0.0.1:${cluster.nodes[0]?.port}`);
      const client = createCluster({ rootNodes: [{ url: cluster.url() }], defaults: { password } });
      await client.connect();
      try {
        await client.set('greeting', 'hello');
        assert.equal(await client.get('greeting'), 'hello');
      } finally {
        await client.close();
      }
      const stranger = createClient({
        url: `redis://127.0.0.1:${cluster.nodes[1]?.port}`,
        socket: { reconnectStrategy: false },
      });
      stranger.on('error', () => {});
      await assert.rejects(stranger.connect(), /NOAUTH/);

      cluster.killNode(1);
      const [first, second, third] = cluster.pids as [number, number, number];
      await until(async () => !alive(second), 'node 1 exits', 2000);
      assert.equal(alive(first), true);
      assert.equal(alive(third), true);
    } finally {
      await cluster.stop();
    }
    for (const pid of cluster.pids) assert.equal(alive(pid), false, `node ${pid} still runs`);
  });
});

describe('startSentinelSetup', redisTestOptions(), () => {
  it('fails over when the master is killed: saves succeed again within 10 s', async () => {
    const password = 'sentinel-pw';
    const setup = await startSentinelSetup({ name: 'cql', password });
    const pids = [setup.master.pid, setup.replica.pid, ...setup.sentinels.map((s) => s.pid)];
    try {
      assert.equal(setup.name, 'cql');
      assert.equal(setup.sentinels.length, 3);
      assert.deepEqual(await setup.currentMaster(), { host: '127.0.0.1', port: setup.master.port });
      const client = createSentinel({
        name: setup.name,
        sentinelRootNodes: setup.sentinels.map(({ host, port }) => ({ host, port })),
        nodeClientOptions: { password },
      });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.set('before', '1');
        setup.killMaster();
        const killedAt = Date.now();
        await until(async () => !alive(setup.master.pid), 'the master process exits', 2000);
        await until(
          async () => {
            try {
              await client.set('after', '2');
              return true;
            } catch {
              return false;
            }
          },
          'a save succeeds after the failover',
          10000,
        );
        assert.ok(Date.now() - killedAt < 10000);
        assert.equal(await client.get('after'), '2');
        assert.deepEqual(await setup.currentMaster(), {
          host: '127.0.0.1',
          port: setup.replica.port,
        });
      } finally {
        await client.close();
      }
    } finally {
      await setup.stop();
    }
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} still runs`);
  });
});

describe('startTlsRedisServer', redisTestOptions(), () => {
  let files: TlsFiles;
  before(() => {
    files = makeCertificates();
  });
  after(() => {
    removeCertificates(files);
  });
  const tls = (ca: string, withCertificate: boolean) => ({
    tls: true as const,
    ca: readFileSync(ca),
    ...(withCertificate
      ? { cert: readFileSync(files.clientCert), key: readFileSync(files.clientKey) }
      : {}),
    reconnectStrategy: false as const,
  });

  it('accepts a client certificate signed by its CA, and refuses the rest', async () => {
    const server = await startTlsRedisServer(files, { requireClientCert: true });
    try {
      assert.equal(server.url(), `rediss://127.0.0.1:${server.port}/0`);
      const client = createClient({ url: server.url(), socket: tls(files.caCert, true) });
      await client.connect();
      assert.equal(await client.ping(), 'PONG');
      await client.close();

      for (const socket of [tls(files.caCert, false), tls(files.otherCaCert, true)]) {
        const refused = createClient({ url: server.url(), socket });
        refused.on('error', () => {});
        await assert.rejects(refused.connect());
        refused.destroy();
      }
    } finally {
      await server.stop();
    }
    assert.equal(alive(server.pid), false);
  });

  it('serves TLS only, with a password and without client certificates', async () => {
    const server = await startTlsRedisServer(files, { password: 'tls pw' });
    try {
      assert.equal(server.url(), `rediss://:tls%20pw@127.0.0.1:${server.port}/0`);
      const client = createClient({ url: server.url(), socket: tls(files.caCert, false) });
      await client.connect();
      assert.equal(await client.ping(), 'PONG');
      assert.match(await client.configGet('port').then((c) => c.port ?? ''), /^0$/);
      await client.close();

      const plain = createClient({
        url: `redis://:tls%20pw@127.0.0.1:${server.port}/0`,
        socket: { reconnectStrategy: false, connectTimeout: 1000 },
      });
      plain.on('error', () => {});
      await assert.rejects(plain.connect());
      plain.destroy();
    } finally {
      await server.stop();
    }
    assert.equal(alive(server.pid), false);
  });
});

describe('startRedisServer aclUsers', redisTestOptions(), () => {
  it('creates ACL users and can turn the default user off', async () => {
    const server = await startRedisServer({
      aclUsers: ['default off', 'alice on >secret ~* &* +@all', 'reader on >look ~* +@read'],
    });
    try {
      const alice = createClient({ url: server.url(), username: 'alice', password: 'secret' });
      await alice.connect();
      assert.equal(await alice.aclWhoAmI(), 'alice');
      await alice.set('k', 'v');
      await alice.close();

      const reader = createClient({ url: server.url(), username: 'reader', password: 'look' });
      await reader.connect();
      assert.equal(await reader.get('k'), 'v');
      await assert.rejects(reader.set('k', 'w'), /NOPERM/);
      await reader.close();

      const anonymous = createClient({ url: server.url(), socket: { reconnectStrategy: false } });
      anonymous.on('error', () => {});
      await assert.rejects(anonymous.connect(), /NOAUTH/);
    } finally {
      await server.stop();
    }
    assert.equal(alive(server.pid), false);
  });
});
