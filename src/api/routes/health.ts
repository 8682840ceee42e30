/** Service status: the store, its connection, and why it is degraded. */
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
    degraded_reason: z
      .enum(['redis_oom', 'redis_noperm'])
      .optional()
      .describe(
        'Why a store that answers is degraded: redis_oom, Redis refuses writes (maxmemory with noeviction); redis_noperm, the ACL user lacks a command the store needs',
      ),
    degraded_detail: z
      .string()
      .optional()
      .describe("For operators: the commands refused, or Redis's own error"),
    evicted_keys: z.int().optional().describe('Keys Redis evicted under maxmemory (from INFO)'),
    maxmemory_policy: z.string().optional(),
    used_memory_bytes: z.int().optional(),
  }),
});

export const healthRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { manager, config }) => {
  app.get(
    '/health',
    { schema: { summary: 'Service status', tags: ['service'], response: { 200: health } } },
    async () => {
      const connected = manager.connected;
      // The store reads Redis INFO at most every few seconds; what Redis refuses is current.
      const status: StoreStatus | undefined = await manager.status().catch(() => undefined);
      // Degraded: Redis was asked for but sessions live in memory, Redis is not answering, or it
      // answers but refuses part of the work (full, or a command the ACL user lacks).
      const degraded =
        (config.useRedis && manager.backend !== 'redis') ||
        !connected ||
        status?.degradedReason !== undefined;
      const redis = manager.backend === 'redis' ? status : undefined;
      return {
        status: degraded ? ('degraded' as const) : ('healthy' as const),
        service: 'repair-agent-api' as const,
        version: VERSION,
        timestamp: new Date().toISOString(),
        session_store: {
          backend: manager.backend,
          connected,
          degraded_reason: status?.degradedReason,
          degraded_detail: status?.degradedDetail,
          evicted_keys: redis?.evictedKeys,
          maxmemory_policy: redis?.maxmemoryPolicy,
          used_memory_bytes: redis?.usedMemoryBytes,
        },
      };
    },
  );
};
