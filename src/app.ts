/**
 * The one place that wires the application: configuration -> logger -> responder -> store
 * (instrumented for metrics) -> session manager. The HTTP API, every CLI command and the
 * benchmarks start here, so each of them runs the production path.
 */
import { createResponder } from './agent/llm/create-responder.js';
import type { Responder } from './agent/types.js';
import { type Config, loadConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { SessionManager } from './sessions/manager.js';
import { openStore, redisStoreOptions } from './sessions/open-store.js';
import { type CounterBackend, MemoryCounters, OutcomeCounter } from './sessions/outcomes.js';
import { FailoverStore } from './sessions/stores/failover.js';
import { createRedisConnection } from './sessions/stores/redis-connection.js';
import { RedisCounters } from './sessions/stores/redis-counters.js';
import type { SessionStore } from './sessions/types.js';

export interface AppOptions {
  /** @default loadConfig(): the environment and `.env` */
  config?: Config;
  /** Root logger. @default pino JSON lines on standard output at config.logLevel */
  logger?: Logger;
  /** An open store to use instead of the configured one (Redis with a fallback to memory, or
   * memory); closed with the app. */
  store?: SessionStore;
  /** @default the configured one (LLM_PROVIDER): see createResponder */
  responder?: Responder;
  /** Current time, for the sessions' timestamps. @default () => new Date() */
  now?: () => Date;
}

export interface App {
  readonly config: Config;
  /** Root logger. */
  readonly logger: Logger;
  readonly manager: SessionManager;
  /** Store operations, session events and (once served) HTTP requests. */
  readonly metrics: Metrics;
  /** What conversations come to (turns, resolved, sent to a professional), for the console. */
  readonly outcomes: OutcomeCounter;
  /** Closes the store (after a last write-back on Redis). */
  close(): Promise<void>;
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = new Metrics();
  // Before the store: a bad KNOWLEDGE_DIR then leaves no connection open.
  const responder = options.responder ?? (await createResponder(config, logger));
  const opened = options.store ?? (await openStore(config, logger));
  const counters = outcomeCounters(config, logger);
  const outcomes = new OutcomeCounter(counters, config.keyPrefix, logger);
  const manager = new SessionManager({
    config,
    logger,
    store: metrics.instrument(opened),
    responder,
    now: options.now,
    alsoClose: [outcomes],
  });
  metrics.observe(opened instanceof FailoverStore ? opened : undefined, manager);
  metrics.trackBackend(() => manager.backend);
  const now = options.now ?? (() => new Date());
  manager.on('turn', (turn) => outcomes.record(turn, now()));
  return { config, logger, manager, metrics, outcomes, close: () => manager.close() };
}

/** The outcome counters' store: Redis (its own connection, opened at the first count) when the
 * sessions are there, memory otherwise. */
function outcomeCounters(config: Config, logger: Logger): CounterBackend {
  if (!config.useRedis) return new MemoryCounters();
  return new RedisCounters(async () => {
    const options = redisStoreOptions(config, logger);
    const connection = createRedisConnection({
      url: options.url,
      cluster: options.cluster,
      sentinel: options.sentinel,
      tls: options.tls,
      connectTimeoutMs: config.redis.connectTimeoutMs,
      reconnectDelay: (retries) => Math.min(100 * 2 ** retries, 5000),
      maxQueuedCommands: 1000,
    });
    // Reconnection errors are the store's to report; here a count is only dropped.
    connection.on('error', () => {});
    try {
      await connection.connect();
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return connection;
  }, config.redis.commandTimeoutMs);
}
