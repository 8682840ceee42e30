/** Chooses the backend from the configuration: memory, or Redis with failover to memory. Redis
 * unreachable at start-up is a logged fallback (`redis_fallback`), never a crash. */
import type { Config } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';
import { SnapshottedMemoryStore } from './snapshot.js';
import { FailoverStore } from './stores/failover.js';
import { MemorySessionStore } from './stores/memory.js';
import { RedisSessionStore } from './stores/redis.js';
import type { SessionStore } from './types.js';

/** `logger` is the root logger; each part logs under its own name. */
export async function openStore(config: Config, logger: Logger): Promise<SessionStore> {
  const log = componentLogger(logger, 'sessions.store');
  const memory = () =>
    new MemorySessionStore({
      maxSessions: config.memoryMaxSessions,
      logger: componentLogger(logger, 'sessions.memory'),
    });
  if (!config.useRedis && config.memorySnapshotPath) {
    const store = new SnapshottedMemoryStore(config.memorySnapshotPath, {
      maxSessions: config.memoryMaxSessions,
      logger: componentLogger(logger, 'sessions.memory'),
    });
    await store.load({
      defaultTtl: config.sessionTtl,
      maxHistoryMessages: config.maxHistoryMessages,
      maxBytes: config.sessionMaxBytes,
    });
    return store;
  }
  if (!config.useRedis) {
    log.info(
      {
        event_type: 'memory_store_selected',
        max_sessions: config.memoryMaxSessions,
        default_ttl: config.sessionTtl,
      },
      'MemorySessionStore inicializado (USE_REDIS=false)',
    );
    return memory();
  }
  const connect = () =>
    RedisSessionStore.connect({
      url: config.redis.url,
      keyPrefix: config.keyPrefix,
      connectTimeoutMs: config.redis.connectTimeoutMs,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      logger: componentLogger(logger, 'sessions.redis'),
    });
  let redis: RedisSessionStore | undefined;
  try {
    redis = await connect();
    log.info(
      {
        event_type: 'redis_connected',
        redis_url: config.redis.redactedUrl,
        default_ttl: config.sessionTtl,
      },
      'RedisSessionStore inicializado com sucesso',
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.warn(
      { event_type: 'redis_fallback', redis_url: config.redis.redactedUrl, reason },
      `Falha ao conectar ao Redis, usando MemorySessionStore: ${reason}`,
    );
  }
  // Redis, with a memory copy to continue on while it is away; without Redis at start-up, memory
  // until a probe finds it.
  return new FailoverStore({
    redis,
    connect,
    local: memory(),
    ttlSeconds: config.sessionTtl,
    logger: componentLogger(logger, 'sessions.failover'),
  });
}
