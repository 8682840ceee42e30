/** Wires the configured parts into a server: the store (instrumented for metrics), the session
 * manager over it, and the routes. */
import type { FastifyInstance } from 'fastify';
import { createResponder } from '../agent/llm/create-responder.js';
import type { Responder } from '../agent/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { SessionManager } from '../sessions/manager.js';
import { openStore } from '../sessions/open-store.js';
import { FailoverStore } from '../sessions/stores/failover.js';
import type { SessionStore } from '../sessions/types.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';

export interface ApiOptions {
  config: Config;
  /** Root logger. */
  logger: Logger;
  /** @default the configured store (Redis with a fallback to memory, or memory) */
  store?: SessionStore;
  /** @default the configured one (LLM_PROVIDER): see createResponder */
  responder?: Responder;
}

export async function createApi(options: ApiOptions): Promise<FastifyInstance> {
  const { config, logger } = options;
  const metrics = new Metrics();
  // Before the store: a bad KNOWLEDGE_DIR then leaves no connection open.
  const responder = options.responder ?? (await createResponder(config, logger));
  const opened = options.store ?? (await openStore(config, logger));
  const manager = await SessionManager.create({
    config,
    logger,
    store: metrics.instrument(opened),
    responder,
  });
  metrics.observe(opened instanceof FailoverStore ? opened : undefined, manager);
  return buildServer({ manager, config, logger, metrics });
}
