/** Service status and the root document. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StoreStatus } from '../../sessions/types.js';
import { VERSION } from '../../version.js';
import type { RouteDeps } from '../deps.js';

const health = z.object({
  status: z.enum(['healthy', 'degraded']),
  service: z.literal('repair-agent-api'),
  version: z.string(),
  timestamp: z.string(),
  session_store: z.object({
    backend: z.enum(['memory', 'redis']),
    connected: z.boolean(),
    evicted_keys: z.int().optional().describe('Keys Redis evicted under maxmemory (from INFO)'),
    maxmemory_policy: z.string().optional(),
    used_memory_bytes: z.int().optional(),
  }),
});

/** Redis INFO is read at most this often, not on every health check. */
const STATUS_TTL_MS = 5000;

export const healthRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { manager, config }) => {
  let status: { at: number; value: StoreStatus | undefined } = { at: 0, value: undefined };
  const storeStatus = async () => {
    if (Date.now() - status.at > STATUS_TTL_MS) {
      status = { at: Date.now(), value: await manager.store.status().catch(() => undefined) };
    }
    return status.value;
  };

  app.get(
    '/health',
    { schema: { summary: 'Service status', tags: ['service'], response: { 200: health } } },
    async () => {
      const connected = manager.store.connected;
      // Degraded: Redis was asked for but sessions live in memory, or Redis is not answering.
      const degraded = (config.useRedis && manager.backend !== 'redis') || !connected;
      const redis = manager.backend === 'redis' ? await storeStatus() : undefined;
      return {
        status: degraded ? ('degraded' as const) : ('healthy' as const),
        service: 'repair-agent-api' as const,
        version: VERSION,
        timestamp: new Date().toISOString(),
        session_store: {
          backend: manager.backend,
          connected,
          evicted_keys: redis?.evictedKeys,
          maxmemory_policy: redis?.maxmemoryPolicy,
          used_memory_bytes: redis?.usedMemoryBytes,
        },
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
