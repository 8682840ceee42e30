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
import type { App } from '../app.js';
import type { TrustProxy } from '../config.js';
import { componentLogger } from '../logger.js';
import { errors } from '../texts/api.js';
import { VERSION } from '../version.js';
import { adminGuard, keyGuard } from './admin-auth.js';
import type { RouteDeps } from './deps.js';
import { registerDocs } from './docs.js';
import { BODY_LIMIT_BYTES, RateLimitedError, toHttpProblem } from './errors.js';
import { httpTimeouts, limitConnectionsPerAddress } from './http-limits.js';
import { useJsonBodyParser } from './json-body.js';
import { adminRoutes } from './routes/admin.js';
import { chatRoutes } from './routes/chat.js';
import { chatStreamRoutes } from './routes/chat-stream.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openAiRoutes } from './routes/openai.js';
import { sessionRoutes } from './routes/sessions.js';
import { webRoutes } from './routes/web.js';

export { BODY_LIMIT_BYTES };

/** Longest path parameter the router accepts (session ids are at most 128 characters). */
const MAX_PARAM_LENGTH = 256;

/** What browsers may send and read across origins: the original web app's calls, the session
 * token, and the rate-limit headers the original exposed. */
export const CORS_OPTIONS: {
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAge: number;
} = {
  methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowedHeaders: ['Content-Type', 'Authorization', 'X-Session-Token'],
  exposedHeaders: [
    'X-RateLimit-Limit',
    'X-RateLimit-Remaining',
    'X-RateLimit-Reset',
    'Retry-After',
    'X-Session-Token',
  ],
  // Preflight answers are cached by the browser for 10 minutes.
  maxAge: 600,
};

export interface ServerDeps {
  /** The wired application (src/app.ts): configuration, logger, manager and metrics. */
  app: App;
  /** The key admin routes take (ADMIN_API_KEY, or the generated one: see resolveAdminKey). */
  adminKey: string;
}

/** Fastify's form of TRUST_PROXY: false, or the proxies' addresses. */
function trustProxyOption(trust: TrustProxy): false | string[] {
  return trust === false ? false : [...trust];
}

/** The session id a request is about, for its log line. */
function sessionIdOf(request: { params: unknown; body: unknown }): string | undefined {
  for (const source of [request.params, request.body]) {
    const id = (source as { session_id?: unknown } | undefined)?.session_id;
    if (typeof id === 'string') return id.slice(0, 128);
  }
  return undefined;
}

export async function buildServer({ app: wired, adminKey }: ServerDeps): Promise<FastifyInstance> {
  const { manager, config, metrics, logger, outcomes } = wired;
  const httpLog = componentLogger(logger, 'api.http', 'api');
  const timeouts = httpTimeouts(config);

  const app = Fastify({
    loggerInstance: componentLogger(logger, 'api.server', 'api') as FastifyBaseLogger,
    // Fastify's own two lines per request are replaced by the single one of the onResponse hook.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    bodyLimit: BODY_LIMIT_BYTES,
    // The client address (the rate limit's key) is what the trusted hops in front say it is: the
    // proxies' addresses or a hop count, never "any client's X-Forwarded-For".
    trustProxy: trustProxyOption(config.api.trustProxy),
    requestTimeout: timeouts.requestTimeout,
    connectionTimeout: timeouts.connectionTimeout,
    http: {
      headersTimeout: timeouts.headersTimeout,
      requestTimeout: timeouts.requestTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    routerOptions: {
      // Session ids in paths reach 128 characters (the router's default stops at 100).
      maxParamLength: MAX_PARAM_LENGTH,
      // Answered by the router itself, before hooks: never echo the (possibly huge) path.
      onMaxParamLength: (_path, _req, res) => {
        res.writeHead(414, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ detail: errors.paramTooLong(MAX_PARAM_LENGTH) }));
      },
    },
    frameworkErrors: (_error, _request, reply: FastifyReply) => {
      reply.code(400).send({ detail: errors.malformedUrl });
    },
  });
  useJsonBodyParser(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error, request, reply) => {
    const problem = toHttpProblem(error, request);
    if (problem === undefined) {
      request.log.error(
        { err: error, event_type: 'request_failed' },
        'Erro inesperado ao atender a requisição',
      );
      return reply.code(500).send({ detail: errors.internal });
    }
    if (problem.status >= 500) {
      request.log.error(
        { reason: (error as Error).message, event_type: 'request_failed' },
        'Falha ao atender a requisição',
      );
    }
    if (problem.headers) reply.headers(problem.headers);
    return reply.code(problem.status).send(problem.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ detail: errors.noRoute(request.method, request.url.split('?')[0] ?? '/') }),
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
    await wired.close();
  });
  limitConnectionsPerAddress(app.server, config.api.maxConnectionsPerIp, httpLog);

  await app.register(helmet);
  await app.register(cors, { ...CORS_OPTIONS, origin: [...config.api.corsOrigins] });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  await registerDocs(app, VERSION);

  const routeDeps: RouteDeps = {
    manager,
    config,
    metrics,
    outcomes,
    adminOnly: adminGuard(adminKey),
    // /metrics stays public unless METRICS_API_KEY is set; then it or the admin key opens it.
    metricsOnly: config.api.metricsApiKey
      ? keyGuard([config.api.metricsApiKey, adminKey], errors.metricsKeyRequired)
      : undefined,
  };
  await app.register(healthRoutes, routeDeps);
  await app.register(chatRoutes, routeDeps);
  await app.register(chatStreamRoutes, routeDeps);
  await app.register(openAiRoutes, routeDeps);
  await app.register(sessionRoutes, routeDeps);
  await app.register(adminRoutes, routeDeps);
  await app.register(metricsRoutes, routeDeps);
  await app.register(webRoutes);
  await app.ready();
  return app;
}
