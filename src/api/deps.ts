/** What the route groups are given by buildServer(). */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { SessionManager } from '../sessions/manager.js';
import type { OutcomeCounter } from '../sessions/outcomes.js';

export interface RouteDeps {
  manager: SessionManager;
  config: Config;
  metrics: Metrics;
  outcomes: OutcomeCounter;
  /** onRequest hook of admin routes: runs before the body or the parameters are looked at. */
  adminOnly: (request: FastifyRequest) => Promise<void>;
  /** onRequest hook of /metrics when METRICS_API_KEY is set; undefined: public. */
  metricsOnly: ((request: FastifyRequest) => Promise<void>) | undefined;
}
