/**
 * Defaults of the settings that components also take as options (a store built by hand, in a
 * test or by a library user): the configuration's schemas and the components read them from
 * here, so a default is written once.
 */
export const DEFAULTS = Object.freeze({
  /** SESSION_TTL, seconds. */
  sessionTtlSeconds: 3600,
  /** REDIS_KEY_PREFIX. */
  keyPrefix: 'cql:session:',
  /** MAX_ATTEMPTS. */
  maxAttempts: 3,
  /** MEMORY_MAX_SESSIONS. */
  memoryMaxSessions: 10000,
  /** SESSION_MAX_BYTES. */
  sessionMaxBytes: 262144,
  /** MAX_HISTORY_MESSAGES. */
  maxHistoryMessages: 100,
  /** REDIS_CONNECT_TIMEOUT_MS. */
  redisConnectTimeoutMs: 2000,
  /** REDIS_COMMAND_TIMEOUT_MS. */
  redisCommandTimeoutMs: 500,
});
