/** Prometheus text exposition. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteDeps } from '../deps.js';

export const metricsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['service'] } },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
