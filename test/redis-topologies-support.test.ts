/** The test helpers for Redis Cluster, Sentinel, TLS and ACL users work against real servers,
 * and leave no process behind. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createClient, createCluster, createSentinel } from '@redis/client';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedisCluster', redisTestOptions(), () => {
  describe('without a password', () => {
    let cluster: RedisCluster;
    before(async () => {
      cluster = await startRedisCluster();
    });
    after(() => cluster?.stop());

    it('starts three masters that createCluster uses', async () => {
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
    });

    it('stops them all', async () => {
      await cluster.stop();
      for (const pid of cluster.pids) assert.equal(alive(pid), false, `node ${pid} still runs`);
    });
  });

  describe('with a password', () => {
    const password = 'cluster pw';
    let cluster: RedisCluster;
    before(async () => {
      cluster = await startRedisCluster({ password });
    });
    after(() => cluster?.stop());

    it('requires its password', async () => {
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
    });

    it('kills a single node by index, then stops them all', async () => {
      cluster.killNode(1);
      const [first, second, third] = cluster.pids as [number, number, number];
      await until(async () => !alive(second), 'node 1 exits');
      assert.equal(alive(first), true);
      assert.equal(alive(third), true);
      await cluster.stop();
      for (const pid of cluster.pids) assert.equal(alive(pid), false, `node ${pid} still runs`);
    });
  });
});

describe('startSentinelSetup', redisTestOptions(), () => {
  const password = 'sentinel-pw';
  let setup: SentinelSetup;
  before(async () => {
    setup = await startSentinelSetup({ name: 'cql', password });
  });
  after(() => setup?.stop());

  it('fails over when the master is killed: saves succeed again', async () => {
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
      await until(async () => !alive(setup.master.pid), 'the master process exits');
      // The sentinels' own timing (down after 1 s, then an election) decides when; not asserted.
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
        60000,
      );
      assert.equal(await client.get('after'), '2');
      assert.deepEqual(await setup.currentMaster(), {
        host: '127.0.0.1',
        port: setup.replica.port,
      });
    } finally {
      await client.close();
    }
  });

  it('stops every process', async () => {
    const pids = [setup.master.pid, setup.replica.pid, ...setup.sentinels.map((s) => s.pid)];
    await setup.stop();
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} still runs`);
  });
});

describe('startTlsRedisServer', redisTestOptions(), () => {
  let files: TlsFiles;
  let withClientCerts: TlsRedisServer;
  let withPassword: TlsRedisServer;
  before(async () => {
    files = makeCertificates();
    [withClientCerts, withPassword] = await Promise.all([
      startTlsRedisServer(files, { requireClientCert: true }),
      startTlsRedisServer(files, { password: 'tls pw' }),
    ]);
  });
  after(async () => {
    await Promise.all([withClientCerts?.stop(), withPassword?.stop()]);
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
    const server = withClientCerts;
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
  });

  it('serves TLS only, with a password and without client certificates', async () => {
    const server = withPassword;
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
  });

  it('stops them', async () => {
    await Promise.all([withClientCerts.stop(), withPassword.stop()]);
    assert.equal(alive(withClientCerts.pid), false);
    assert.equal(alive(withPassword.pid), false);
  });
});

describe('startRedisServer aclUsers', redisTestOptions(), () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer({
      aclUsers: ['default off', 'alice on >secret ~* &* +@all', 'reader on >look ~* +@read'],
    });
  });
  after(() => server?.stop());

  it('creates ACL users and can turn the default user off', async () => {
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
  });

  it('stops it', async () => {
    await server.stop();
    assert.equal(alive(server.pid), false);
  });
});

describe('a test process stopped by a signal', redisTestOptions(), () => {
  it('takes its redis-server with it (the runner stops a file past its timeout so, before its after() hooks)', async () => {
    const support = new URL('./support/redis-server.ts', import.meta.url).href;
    const program = `import { startRedisServer } from ${JSON.stringify(support)};
const server = await startRedisServer();
console.log(server.pid);
setInterval(() => {}, 1000);`;
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), '--input-type=module', '--eval', program],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const pid = Number(line);
    assert.ok(Number.isInteger(pid) && alive(pid), `a running redis-server, not "${line}"`);
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 143, 'exits as stopped by SIGTERM');
    await until(() => !alive(pid), 'the redis-server to end');
  });
});
