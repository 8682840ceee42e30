/**
 * Failover at run time against real redis-server processes: killed, frozen, paused, full,
 * restarted, and cut off from one client by a proxy.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { decodeSession } from '../src/sessions/codec.js';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import type { SessionManager } from '../src/sessions/manager.js';
import { openStore } from '../src/sessions/open-store.js';
import { FailoverStore } from '../src/sessions/stores/failover.js';
import { captureLogs, openManager, testConfig, testResponder } from './support/fixtures.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { startProxy, type TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

async function managerOn(url: string, env: Record<string, string> = {}) {
  const logs = captureLogs('info');
  const config = testConfig({
    USE_REDIS: 'true',
    REDIS_URL: url,
    REDIS_COMMAND_TIMEOUT_MS: '300',
    ...env,
  });
  const store = await openStore(config, logs.logger);
  assert.ok(store instanceof FailoverStore);
  const manager = await openManager({
    config,
    logger: logs.logger,
    store,
    responder: await testResponder(),
  });
  return { manager, store, logs };
}

/** A manager whose path to a private Redis goes through a proxy the test can cut. */
async function behindProxy(
  test: (
    parts: Awaited<ReturnType<typeof managerOn>> & { proxy: TcpProxy; server: RedisServer },
  ) => Promise<void>,
): Promise<void> {
  const server = await startRedisServer();
  const proxy = await startProxy(server.port);
  const parts = await managerOn(`redis://127.0.0.1:${proxy.port}/0`);
  try {
    await test({ ...parts, proxy, server });
  } finally {
    await parts.manager.close();
    await proxy.close();
    await server.stop();
  }
}

const turn = (manager: SessionManager, id: string, message: string) =>
  manager.withSession(id, (agent) => agent.chat(message));

/** The process state `ps` reports for a pid: 'T' once stopped by SIGSTOP. */
function processState(pid: number): string {
  return (
    execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()[0] ?? ''
  );
}

async function storedHistory(url: string, key: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    const raw = await client.get(key);
    return raw === null ? -1 : decodeSession(key, raw).conversation_history.length;
  } finally {
    await client.close();
  }
}

describe('failover while running', redisTestOptions(), () => {
  it('continues on memory when Redis is killed, then writes back and switches back when it returns', async () => {
    let server: RedisServer = await startRedisServer({ args: ['--appendonly', 'yes'] });
    const { manager, logs } = await managerOn(server.url());
    try {
      await turn(manager, 'alive', 'a torneira está pingando');
      server.signal('SIGKILL');
      // Every request on a session this instance holds still succeeds, on its copy.
      const reply = await turn(manager, 'alive', 'não');
      assert.match(reply, /tentativa 2 de 3/, 'the conversation continues with its history');
      assert.equal(manager.backend, 'memory');
      // A first message makes a new session under a fresh id...
      const born = await manager.runTurn(undefined, 'a pia está entupida');
      // ...but a session the instance never saw may exist in Redis: its token cannot be checked.
      await assert.rejects(
        turn(manager, 'never-seen', 'a pia está entupida'),
        StoreUnavailableError,
      );
      await turn(manager, 'alive', 'talvez');
      const warnings = logs.records().filter((r) => r.event_type === 'redis_unavailable');
      assert.equal(warnings.length, 1, 'one WARNING, not one per request');
      assert.equal(warnings[0]?.level, 'WARNING');

      server = await server.restart({ downMs: 300 });
      await until(() => manager.backend === 'redis', 'the switch back to Redis');
      const recovered = logs.records().find((r) => r.event_type === 'redis_recovered');
      assert.equal(recovered?.level, 'INFO');
      assert.equal(recovered?.written_back, 2);
      assert.equal(recovered?.conflicts, 0);
      assert.equal(await storedHistory(server.url(), 'cql:session:alive'), 6);
      assert.equal(await storedHistory(server.url(), `cql:session:${born.sessionId}`), 2);
      assert.equal(await storedHistory(server.url(), 'cql:session:never-seen'), -1);
      await turn(manager, 'alive', 'sim');
      assert.equal(await storedHistory(server.url(), 'cql:session:alive'), 8);
    } finally {
      await manager.close();
      await server.stop();
    }
  });

  it('continues on memory while Redis is frozen (SIGSTOP), then writes back when it thaws', async () => {
    const server = await startRedisServer();
    const { manager } = await managerOn(server.url());
    try {
      await turn(manager, 'frozen', 'o chuveiro não esquenta');
      server.signal('SIGSTOP');
      await until(() => processState(server.pid) === 'T', 'redis-server to be stopped');
      // The connection stays open and nothing answers: the command timeout is the only signal.
      assert.match(await turn(manager, 'frozen', 'não'), /tentativa 2 de 3/);
      assert.equal(manager.backend, 'memory', 'the turn met the frozen server');
      server.signal('SIGCONT');
      await until(() => manager.backend === 'redis', 'recovery after the thaw');
      assert.equal(await storedHistory(server.url(), 'cql:session:frozen'), 4);
    } finally {
      server.signal('SIGCONT');
      await manager.close();
      await server.stop();
    }
  });

  it('keeps writing while writes are paused (CLIENT PAUSE WRITE), then writes back', async () => {
    const server = await startRedisServer();
    const { manager } = await managerOn(server.url());
    const admin = createClient({ url: server.url() });
    await admin.connect();
    try {
      await turn(manager, 'paused', 'a porta está rangendo');
      await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'WRITE']);
      assert.match(await turn(manager, 'paused', 'não'), /tentativa 2 de 3/);
      assert.equal(manager.backend, 'memory', 'the write met the pause');
      await until(() => manager.backend === 'redis', 'recovery after the pause');
      assert.equal(await storedHistory(server.url(), 'cql:session:paused'), 4);
    } finally {
      await admin.close();
      await manager.close();
      await server.stop();
    }
  });

  it('on recovery merges a session both sides changed, and keeps deletions', () =>
    behindProxy(async ({ manager, store, logs, proxy, server }) => {
      const other = await managerOn(server.url()); // another instance, still reaching Redis
      const merges: unknown[] = [];
      store.on('merged', (merge) => merges.push(merge));
      try {
        await turn(manager, 'contested', 'a torneira está pingando');
        await turn(manager, 'doomed', 'a pia está entupida');
        proxy.cut();
        await turn(manager, 'contested', 'talvez amanhã'); // version 2, in memory only
        assert.equal(await manager.deleteSession('doomed'), true);
        for (const message of ['não', 'não', 'sim'])
          await turn(other.manager, 'contested', message); // version 4
        proxy.restore();
        await until(() => manager.backend === 'redis', 'recovery through the proxy');
        const recovered = logs.records().find((r) => r.event_type === 'redis_recovered');
        assert.equal(recovered?.merged, 1);
        assert.equal(recovered?.conflicts, 0);
        assert.equal(recovered?.deleted, 1);
        const merged = logs.records().find((r) => r.event_type === 'session_merged');
        assert.equal(merged?.level, 'INFO');
        assert.equal(merged?.session_id, 'contested');
        assert.deepEqual(
          [merged?.local_only, merged?.redis_only, merged?.duplicates, merged?.dropped],
          [2, 6, 2, 0],
        );
        assert.equal(merges.length, 1, "the 'merged' event, for the metrics");
        const contested = await manager.getSession('contested');
        assert.equal(contested?.record.version, 5, 'above both branches');
        assert.equal(contested?.record.state, 'resolved', 'from the branch saved last');
        const users = contested?.record.conversation_history
          .filter((m) => m.role === 'user')
          .map((m) => m.content);
        assert.deepEqual(users, ['a torneira está pingando', 'talvez amanhã', 'não', 'não', 'sim']);
        assert.equal(
          await other.manager.getAgent('doomed'),
          null,
          'deleted during the outage, still deleted',
        );
      } finally {
        await other.manager.close();
      }
    }));

  it('on recovery keeps a newer session under the same id, and counts the conflict', () =>
    behindProxy(async ({ manager, logs, proxy, server }) => {
      const other = await managerOn(server.url());
      try {
        await turn(manager, 'replaced', 'a torneira está pingando');
        proxy.cut();
        await turn(manager, 'replaced', 'não'); // the old session, in memory only
        // Meanwhile its owner starts it over elsewhere: deleted, and a new session under the id.
        await other.manager.deleteSession('replaced');
        await turn(other.manager, 'replaced', 'a geladeira não gela');
        proxy.restore();
        await until(() => manager.backend === 'redis', 'recovery through the proxy');
        const recovered = logs.records().find((r) => r.event_type === 'redis_recovered');
        assert.equal(recovered?.conflicts, 1);
        const conflict = logs.records().find((r) => r.event_type === 'session_conflict');
        assert.equal(conflict?.level, 'WARNING');
        assert.equal(conflict?.kept, 'redis');
        assert.equal(conflict?.reason, 'newer_creation');
        const stored = await manager.getSession('replaced');
        assert.match(stored?.record.problem ?? '', /geladeira/, 'the newer creation');
      } finally {
        await other.manager.close();
      }
    }));

  it('keeps a delete made as the outage begins, and a session deleted then created again', () =>
    behindProxy(async ({ manager, proxy, server }) => {
      await turn(manager, 'gone', 'a torneira está pingando');
      await turn(manager, 'reborn', 'a torneira está pingando');
      await turn(manager, 'reborn', 'não');
      await turn(manager, 'reborn', 'não'); // version 3 in Redis
      proxy.cut();
      assert.equal(await manager.deleteSession('gone'), true, 'the call that meets the outage');
      assert.equal(manager.backend, 'memory');
      await manager.deleteSession('reborn');
      await turn(manager, 'reborn', 'a geladeira não gela'); // a new session, version 1
      proxy.restore();
      await until(() => manager.backend === 'redis', 'recovery');
      assert.equal(await storedHistory(server.url(), 'cql:session:gone'), -1, 'still deleted');
      const reborn = await manager.getSession('reborn');
      assert.equal(reborn?.record.version, 1, 'the new session, not the deleted one');
      assert.match(reborn?.record.problem ?? '', /geladeira/);
    }));

  it('writes back on close what only memory holds, when Redis is back', () =>
    behindProxy(async ({ manager, logs, proxy, server }) => {
      await turn(manager, 'closing', 'a torneira está pingando');
      proxy.cut();
      await turn(manager, 'closing', 'não');
      proxy.restore();
      await manager.close(); // before the probe's first pause is over
      assert.equal(await storedHistory(server.url(), 'cql:session:closing'), 4);
      assert.ok(!logs.records().some((r) => r.event_type === 'sessions_not_written_back'));
    }));

  it('says on close how many changes could not be written back while Redis is away', () =>
    behindProxy(async ({ manager, logs, proxy }) => {
      await turn(manager, 'stranded', 'a torneira está pingando');
      proxy.cut();
      await turn(manager, 'stranded', 'não');
      await manager.close();
      const line = logs.records().find((r) => r.event_type === 'sessions_not_written_back');
      assert.equal(line?.level, 'WARNING');
      assert.equal(line?.changed, 1);
    }));

  it('starts on memory when Redis is down at start-up, and moves to Redis when it comes up', async () => {
    const server = await startRedisServer();
    const port = server.port;
    await server.stop();
    const { manager, logs } = await managerOn(`redis://127.0.0.1:${port}/0`);
    let revived: RedisServer | undefined;
    try {
      assert.equal(manager.backend, 'memory');
      assert.ok(logs.records().some((r) => r.event_type === 'redis_fallback'));
      const early = await manager.runTurn(undefined, 'a geladeira não gela');
      revived = await startRedisServer({ port });
      await until(() => manager.backend === 'redis', 'Redis found by the probe');
      assert.equal(await storedHistory(revived.url(), `cql:session:${early.sessionId}`), 2);
    } finally {
      await manager.close();
      await revived?.stop();
    }
  });
});

describe('a full Redis', redisTestOptions(), () => {
  it('with noeviction: the request still succeeds in memory, is logged, and is written back later', async () => {
    const server = await startRedisServer();
    const { manager, store, logs } = await managerOn(server.url());
    const admin = createClient({ url: server.url() });
    await admin.connect();
    const events: string[] = [];
    store.on('rejected', () => events.push('rejected'));
    try {
      await turn(manager, 'squeezed', 'a torneira está pingando');
      await admin.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
      assert.match(await turn(manager, 'squeezed', 'não'), /tentativa 2 de 3/);
      assert.match(await turn(manager, 'squeezed', 'talvez'), /não entendi/);
      assert.equal(manager.backend, 'redis', 'reads still come from Redis');
      assert.equal(
        (await manager.getAgent('squeezed'))?.conversationHistory.length,
        6,
        'the newest turns are kept',
      );
      assert.equal(events.length, 1, 'later turns of that session go straight to memory');
      const warnings = logs.records().filter((r) => r.event_type === 'redis_write_rejected');
      assert.equal(warnings.length, 1);
      assert.equal(
        await storedHistory(server.url(), 'cql:session:squeezed'),
        2,
        'Redis is behind meanwhile',
      );
      await admin.configSet({ maxmemory: '0' });
      await until(
        async () => (await storedHistory(server.url(), 'cql:session:squeezed')) === 6,
        'the write-back',
      );
    } finally {
      await admin.close();
      await manager.close();
      await server.stop();
    }
  });
});

describe('persistence', redisTestOptions(), () => {
  it('with appendonly yes, sessions survive a Redis crash and restart', async () => {
    // Every write on disk before its answer: what a crash cannot take back.
    let server = await startRedisServer({
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    const first = await managerOn(server.url());
    let second: Awaited<ReturnType<typeof managerOn>> | undefined;
    try {
      await turn(first.manager, 'durable', 'o disjuntor cai toda hora');
      await turn(first.manager, 'durable', 'não');
      await first.manager.close();
      assert.ok(!first.logs.records().some((r) => r.event_type === 'sessions_not_written_back'));
      server = await server.restart({ crash: true });
      second = await managerOn(server.url());
      const agent = await second.manager.getAgent('durable');
      assert.equal(agent?.currentAttempt, 2);
      assert.equal(agent?.conversationHistory.length, 4);
    } finally {
      await first.manager.close();
      await second?.manager.close();
      await server.stop();
    }
  });
});
