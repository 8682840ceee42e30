/** Prometheus text exposition. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteDeps } from '../deps.js';

export const metricsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { metrics, metricsOnly },
) => {
  app.get(
    '/metrics',
    {
      ...(metricsOnly && { onRequest: metricsOnly }),
      schema: { summary: 'Prometheus metrics (METRICS_API_KEY, when set)', tags: ['service'] },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
