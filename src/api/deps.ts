/** What the route groups are given by buildServer(). */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { SessionManager } from '../sessions/manager.js';
import type { Metrics } from './metrics.js';

export interface RouteDeps {
  manager: SessionManager;
  config: Config;
  metrics: Metrics;
  /** onRequest hook of admin routes: runs before the body or the parameters are looked at. */
  adminOnly: (request: FastifyRequest) => Promise<void>;
}
