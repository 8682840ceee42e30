/**
 * buildServer(deps) -> a ready Fastify instance: security headers, CORS, rate limit, docs,
 * metrics, one log line per request, errors mapped in one place, and the session manager
 * closed with the server.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';
import type { SessionManager } from '../sessions/manager.js';
import { VERSION } from '../version.js';
import { adminGuard } from './admin-auth.js';
import type { RouteDeps } from './deps.js';
import { registerDocs } from './docs.js';
import { toHttpProblem } from './errors.js';
import { Metrics } from './metrics.js';
import { chatRoutes } from './routes/chat.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { sessionRoutes } from './routes/sessions.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ServerDeps {
  manager: SessionManager;
  config: Config;
  /** Root logger. */
  logger: Logger;
  /** @default a new registry */
  metrics?: Metrics;
}

/** The session id a request is about, for its log line. */
function sessionIdOf(request: { params: unknown; body: unknown }): string | undefined {
  for (const source of [request.params, request.body]) {
    const id = (source as { session_id?: unknown } | undefined)?.session_id;
    if (typeof id === 'string') return id.slice(0, 128);
  }
  return undefined;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { manager, config } = deps;
  const metrics = deps.metrics ?? new Metrics();
  metrics.trackBackend(() => manager.backend);
  const httpLog = componentLogger(deps.logger, 'api.http', 'api');

  const app = Fastify({
    loggerInstance: componentLogger(deps.logger, 'api.server', 'api') as FastifyBaseLogger,
    // Fastify's own two lines per request are replaced by the single one of the onResponse hook.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Behind a reverse proxy the client address (admin loopback check, rate limit) comes from
    // X-Forwarded-For; without TRUST_PROXY the proxy's own address would be seen.
    trustProxy: config.api.trustProxy,
    routerOptions: {
      // Session ids in paths reach 128 characters (the router's default stops at 100).
      maxParamLength: 256,
      // Answered by the router itself, before hooks: never echo the (possibly huge) path.
      onMaxParamLength: (_path, _req, res) => {
        res.writeHead(414, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ detail: 'A path parameter is longer than 256 characters.' }));
      },
    },
    frameworkErrors: (_error, _request, reply: FastifyReply) => {
      reply.code(400).send({ detail: 'Malformed URL.' });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error, request, reply) => {
    const problem = toHttpProblem(error);
    if (problem === undefined) {
      request.log.error(
        { err: error, event_type: 'request_failed' },
        'Erro inesperado ao atender a requisição',
      );
      return reply.code(500).send({ detail: 'Internal server error' });
    }
    if (problem.status >= 500) {
      request.log.error(
        { reason: (error as Error).message, event_type: 'request_failed' },
        'Falha ao atender a requisição',
      );
    }
    if (problem.headers) reply.headers(problem.headers);
    return reply.code(problem.status).send({ detail: problem.detail });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ detail: `No route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    httpLog.info(
      {
        method: request.method,
        route,
        status_code: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        session_id: sessionIdOf(request),
        event_type: 'http_request',
      },
      'Requisição atendida',
    );
  });
  // While closing, answers to requests in flight ask their clients to close the connection,
  // so that keep-alive connections do not hold the shutdown open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => {
    await manager.close();
  });

  await app.register(helmet);
  await app.register(cors, { origin: [...config.api.corsOrigins] });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `Too many requests: at most ${context.max} per minute; retry in ${context.after}.`,
    }),
  });
  await registerDocs(app, VERSION);

  const routeDeps: RouteDeps = {
    manager,
    config,
    metrics,
    adminOnly: adminGuard(config.api.adminApiKey),
  };
  await app.register(healthRoutes, routeDeps);
  await app.register(chatRoutes, routeDeps);
  await app.register(sessionRoutes, routeDeps);
  await app.register(metricsRoutes, routeDeps);
  await app.ready();
  return app;
}
