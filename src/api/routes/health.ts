/** Service status and the root document. */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteDeps } from '../deps.js';

const { version } = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

const health = z.object({
  status: z.enum(['healthy', 'degraded']),
  service: z.literal('repair-agent-api'),
  version: z.string(),
  timestamp: z.string(),
  session_store: z.object({ backend: z.enum(['memory', 'redis']), connected: z.boolean() }),
});

export const healthRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { manager, config }) => {
  app.get(
    '/health',
    { schema: { summary: 'Service status', tags: ['service'], response: { 200: health } } },
    async () => {
      const connected = manager.store.connected;
      // Degraded: Redis was asked for but sessions live in memory, or Redis is not answering.
      const degraded = (config.useRedis && manager.backend !== 'redis') || !connected;
      return {
        status: degraded ? ('degraded' as const) : ('healthy' as const),
        service: 'repair-agent-api' as const,
        version,
        timestamp: new Date().toISOString(),
        session_store: { backend: manager.backend, connected },
      };
    },
  );

  app.get(
    '/',
    {
      schema: {
        summary: 'Service description',
        tags: ['service'],
        response: { 200: z.object({ message: z.string(), docs: z.string() }) },
      },
    },
    async () => ({ message: 'CQL Agent: assistente de reparos domésticos', docs: '/docs' }),
  );
};
