/**
 * The store contract on the failover store in the three states production meets: Redis
 * answering, Redis away (served from the memory copy), and across a recovery (written in the
 * outage, read back from Redis once it returns). Each store reaches a private redis-server
 * through its own proxy, which the outage cuts.
 */
import { after, describe } from 'node:test';
import { StoreUnavailableError } from '../src/sessions/errors.js';
import { sessionMerge } from '../src/sessions/merge.js';
import { FailoverStore } from '../src/sessions/stores/failover.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import type { SessionStore } from '../src/sessions/types.js';
import { CONTRACT_MAX_VALUE_BYTES, runStoreContract } from './store-contract.js';
import { captureLogs } from './support/fixtures.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { startProxy, type TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

describe('failover store', redisTestOptions(), () => {
  const redis = useRedisServer();
  const proxies = new Map<SessionStore, TcpProxy>();
  const opened: TcpProxy[] = [];
  let prefixes = 0;
  /** The memory copies' clock, moved by the contract's expiry tests. */
  let clock = Date.now();
  after(async () => {
    for (const proxy of opened) await proxy.close();
  });

  /**
   * A store on its own proxy. `commandTimeoutMs`: short for the stores cut from Redis (one closed
   * during an outage waits about this long for Redis); long for the one that must keep Redis, as
   * on a busy machine a command through the proxy can take longer than 300 ms, and a missed
   * deadline is an outage.
   */
  async function open(commandTimeoutMs = 10_000): Promise<FailoverStore> {
    const proxy = await startProxy(redis.server.port);
    opened.push(proxy);
    const options = {
      url: `redis://127.0.0.1:${proxy.port}/0`,
      keyPrefix: `failover:${++prefixes}:`,
      maxValueBytes: CONTRACT_MAX_VALUE_BYTES,
      commandTimeoutMs,
      connectTimeoutMs: 1000,
    };
    const store = new FailoverStore({
      redis: await RedisSessionStore.connect(options),
      connect: () => RedisSessionStore.connect(options),
      local: new MemorySessionStore({ maxValueBytes: CONTRACT_MAX_VALUE_BYTES, now: () => clock }),
      ttlSeconds: 900,
      logger: captureLogs('silent').logger,
      probe: { firstMs: 20, maxMs: 100 },
      merge: sessionMerge({ maxHistoryMessages: 100, maxBytes: CONTRACT_MAX_VALUE_BYTES }),
    });
    proxies.set(store, proxy);
    return store;
  }

  /** Cuts the store's path to Redis and waits until a command has met the outage. */
  async function inOutage(commandTimeoutMs = 300): Promise<FailoverStore> {
    const store = await open(commandTimeoutMs);
    proxies.get(store)?.cut();
    await until(async () => {
      await store.exists('probe').catch((error: unknown) => {
        if (!(error instanceof StoreUnavailableError)) throw error;
      });
      return store.name === 'memory';
    }, 'the switch to memory');
    return store;
  }

  const advanceClock = (ms: number) => {
    clock += ms;
  };

  runStoreContract('failover (Redis answering)', { open: () => open(), advanceClock });

  runStoreContract('failover (Redis away)', {
    open: () => inOutage(),
    advanceClock,
    outage: true,
  });

  runStoreContract('failover (across a recovery)', {
    // Redis comes back: then as patient as the store that keeps it.
    open: () => inOutage(10_000),
    advanceClock,
    settle: async (store) => {
      proxies.get(store)?.restore();
      await until(() => store.name === 'redis', 'the recovery and write-back');
    },
  });
});
