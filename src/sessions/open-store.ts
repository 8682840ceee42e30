/** Chooses the backend from the configuration: memory, or Redis with failover to memory. Redis
 * unreachable at start-up is a logged fallback (`redis_fallback`), never a crash. */
import { readFileSync } from 'node:fs';
import { type Config, ConfigError } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';
import { PROBLEMS } from '../texts/config.js';
import { cipherFor } from './cipher.js';
import { sessionMerge } from './merge.js';
import { SnapshottedMemoryStore } from './snapshot.js';
import { FailoverStore } from './stores/failover.js';
import { MemorySessionStore } from './stores/memory.js';
import { RedisSessionStore, type RedisStoreOptions } from './stores/redis.js';
import { quarantineKeepsSlot } from './stores/redis-keys.js';
import type { SessionStore } from './types.js';

/** `logger` is the root logger; each part logs under its own name. */
export async function openStore(config: Config, logger: Logger): Promise<SessionStore> {
  const log = componentLogger(logger, 'sessions.store');
  const memory = (isCopy: boolean) =>
    new MemorySessionStore({
      maxSessions: config.memoryMaxSessions,
      maxValueBytes: config.sessionMaxBytes,
      logger: componentLogger(logger, 'sessions.memory'),
      isCopy,
    });
  if (!config.useRedis && config.memorySnapshotPath) {
    const store = new SnapshottedMemoryStore(config.memorySnapshotPath, {
      maxSessions: config.memoryMaxSessions,
      maxValueBytes: config.sessionMaxBytes,
      logger: componentLogger(logger, 'sessions.memory'),
      intervalMs: config.memorySnapshotIntervalSeconds * 1000,
    });
    await store.load({
      defaultTtl: config.sessionTtl,
      maxHistoryMessages: config.maxHistoryMessages,
      maxBytes: config.sessionMaxBytes,
      cipher: cipherFor(config.encryptionKeys),
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
    return memory(false);
  }
  const options = redisStoreOptions(config, componentLogger(logger, 'sessions.redis'));
  const connect = () => RedisSessionStore.connect(options);
  let redis: RedisSessionStore | undefined;
  try {
    redis = await connect();
    log.info(
      {
        event_type: 'redis_connected',
        redis_url: config.redis.redactedUrl,
        redis_topology: redis.connection.topology,
        redis_nodes: config.redis.description,
        encryption: config.encryptionKeys.length > 0,
        default_ttl: config.sessionTtl,
      },
      'RedisSessionStore inicializado com sucesso',
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.warn(
      {
        event_type: 'redis_fallback',
        redis_url: config.redis.redactedUrl,
        redis_nodes: config.redis.description,
        reason,
      },
      `Falha ao conectar ao Redis, usando MemorySessionStore: ${reason}`,
    );
  }
  // Redis, with a memory copy to continue on while it is away; without Redis at start-up, memory
  // until a probe finds it. Sessions changed on two instances meanwhile are merged on recovery.
  return new FailoverStore({
    redis,
    connect,
    local: memory(true),
    ttlSeconds: config.sessionTtl,
    logger: componentLogger(logger, 'sessions.failover'),
    merge: sessionMerge({
      maxHistoryMessages: config.maxHistoryMessages,
      maxBytes: config.sessionMaxBytes,
      cipher: cipherFor(config.encryptionKeys),
    }),
  });
}

/** The Redis store's options from the configuration; the TLS files are read here. */
export function redisStoreOptions(config: Config, logger: Logger): RedisStoreOptions {
  const { redis } = config;
  // Quarantine renames a key within its slot: on a Cluster, braces in the prefix must make a tag.
  if (redis.clusterNodes.length > 0 && !quarantineKeepsSlot(config.keyPrefix)) {
    throw new ConfigError([PROBLEMS.keyPrefixBraces(JSON.stringify(config.keyPrefix))]);
  }
  const read = (variable: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      throw new ConfigError([PROBLEMS.tlsFileUnreadable(variable, path, code, message)]);
    }
  };
  return {
    url: redis.url,
    cluster: redis.clusterNodes.length > 0 ? { nodes: redis.clusterNodes } : undefined,
    sentinel: redis.sentinel,
    tls: {
      ca: read('REDIS_TLS_CA', redis.tls.ca),
      cert: read('REDIS_TLS_CERT', redis.tls.cert),
      key: read('REDIS_TLS_KEY', redis.tls.key),
    },
    keyPrefix: config.keyPrefix,
    connectTimeoutMs: redis.connectTimeoutMs,
    commandTimeoutMs: redis.commandTimeoutMs,
    maxValueBytes: config.sessionMaxBytes,
    logger,
  };
}
