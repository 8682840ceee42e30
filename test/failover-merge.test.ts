/**
 * Two instances that both took turns on the same sessions during an outage, each on its own
 * memory copy, write back at the same time when Redis returns: every turn of both ends up in
 * Redis (merged), none is dropped by a tie between versions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { decodeSession } from '../src/sessions/codec.js';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import { SessionManager } from '../src/sessions/manager.js';
import { openStore } from '../src/sessions/open-store.js';
import { FailoverStore } from '../src/sessions/stores/failover.js';
import { captureLogs, testConfig, testResponder } from './support/fixtures.js';
import { redisTestOptions, startRedisServer } from './support/redis-server.js';
import { startProxy, type TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

/** One instance: a manager over a failover store whose path to Redis goes through `proxy`. */
async function instance(proxy: TcpProxy) {
  const logs = captureLogs('info');
  const config = testConfig({
    USE_REDIS: 'true',
    REDIS_URL: `redis://127.0.0.1:${proxy.port}/0`,
    REDIS_COMMAND_TIMEOUT_MS: '300',
  });
  const store = await openStore(config, logs.logger);
  assert.ok(store instanceof FailoverStore);
  const manager = new SessionManager({
    config,
    logger: logs.logger,
    store,
    responder: await testResponder(),
  });
  return { manager, store, logs, proxy };
}

type Instance = Awaited<ReturnType<typeof instance>>;

/** Waits until a command of this instance has met the cut. */
async function away({ manager, store }: Instance, sessionId: string, token: string) {
  await until(async () => {
    await manager.history(sessionId, { token }).catch((error: unknown) => {
      if (!(error instanceof StoreUnavailableError)) throw error;
    });
    return store.name === 'memory';
  }, 'the switch to memory');
}

describe('two instances writing back after an outage', redisTestOptions(), () => {
  it('keeps every turn either instance acknowledged, merging the two branches', async () => {
    const server = await startRedisServer();
    const a = await instance(await startProxy(server.port));
    const b = await instance(await startProxy(server.port));
    const raw = createClient({ url: server.url() });
    await raw.connect();
    try {
      const sessions: { id: string; token: string; said: string[] }[] = [];
      for (let i = 0; i < 6; i++) {
        const first = await a.manager.runTurn(undefined, 'a torneira está pingando');
        const token = first.token ?? '';
        // Served by both before the outage: each instance holds a copy.
        await b.manager.runTurn(first.sessionId, `talvez ${i}`, { token });
        sessions.push({
          id: first.sessionId,
          token,
          said: ['a torneira está pingando', `talvez ${i}`],
        });
      }
      const [one] = sessions;
      assert.ok(one);
      // A session only A has seen cannot be continued on B during the outage.
      const onlyA = await a.manager.runTurn(undefined, 'a pia está entupida');
      a.proxy.cut();
      b.proxy.cut();
      await away(a, one.id, one.token);
      await away(b, one.id, one.token);
      for (let round = 0; round < 2; round++) {
        for (const session of sessions) {
          for (const [name, side] of [
            ['A', a],
            ['B', b],
          ] as const) {
            const message = `talvez ${name}${round} em ${session.id.slice(0, 8)}`;
            await side.manager.runTurn(session.id, message, { token: session.token });
            session.said.push(message);
          }
        }
      }
      await assert.rejects(
        b.manager.runTurn(onlyA.sessionId, 'não', { token: onlyA.token }),
        StoreUnavailableError,
      );
      // Both come back at once and write back side by side.
      a.proxy.restore();
      b.proxy.restore();
      await until(
        () => a.manager.backend === 'redis' && b.manager.backend === 'redis',
        'both recoveries',
      );
      for (const session of sessions) {
        const value = await raw.get(`cql:session:${session.id}`);
        assert.ok(value, `${session.id} is in Redis`);
        const users = decodeSession(session.id, value)
          .conversation_history.filter((m) => m.role === 'user')
          .map((m) => m.content);
        assert.deepEqual(
          [...users].sort(),
          [...session.said].sort(),
          `every turn of ${session.id}`,
        );
      }
      const merged = [...a.logs.records(), ...b.logs.records()].filter(
        (r) => r.event_type === 'session_merged',
      );
      assert.deepEqual(
        new Set(merged.map((r) => r.session_id)),
        new Set(sessions.map((s) => s.id)),
        'each session merged',
      );
      assert.ok(
        merged.every((r) => r.dropped === 0),
        'nothing dropped',
      );
      const conflicts = [...a.logs.records(), ...b.logs.records()].filter(
        (r) => r.event_type === 'session_conflict' && r.kept !== undefined,
      );
      assert.deepEqual(conflicts, [], 'no branch dropped');
    } finally {
      await raw.close();
      for (const side of [a, b]) {
        await side.manager.close();
        await side.proxy.close();
      }
      await server.stop();
    }
  });
});
