/** The console's view of the service (admin): where the store stands, and what conversations
 * come to. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OUTCOME_DAYS_KEPT } from '../../sessions/outcomes.js';
import type { RouteDeps } from '../deps.js';
import { errorBody } from '../schemas.js';

const count = z.int().nullable();

const storeStatus = z.object({
  backend: z.enum(['memory', 'redis']).describe('Where sessions are served from right now'),
  topology: z.enum(['single', 'cluster', 'sentinel']).nullable(),
  connected: z.boolean(),
  on_memory_since: z
    .string()
    .nullable()
    .describe('Redis is configured but sessions are on the memory copy since then'),
  pending_writebacks: z.int().describe('Sessions changed on the memory copy, not yet in Redis'),
  quarantined: count.describe('Unreadable values moved aside (kept 7 days); null when unknown'),
  used_memory_bytes: count,
  maxmemory_bytes: count.describe('0: no limit'),
  maxmemory_policy: z.string().nullable(),
  evicted_keys: count,
  keyspace_hits: count,
  keyspace_misses: count,
  degraded_reason: z.string().nullable(),
  degraded_detail: z.string().nullable(),
});

const outcomeCounts = {
  resolved: z.int(),
  max_attempts: z.int().describe('Sent to a professional after the last attempt'),
  open: z.int().describe('Started and neither resolved nor sent to a professional'),
};

const outcomes = z.object({
  turns_per_minute: z
    .array(z.object({ minute: z.string(), turns: z.int() }))
    .describe('The last 60 minutes, oldest first'),
  totals: z.object(outcomeCounts),
  by_topic: z.array(
    z.object({
      topic: z.string().describe('Knowledge-base guide of the first answer; "-" for none'),
      ...outcomeCounts,
    }),
  ),
  days: z.int(),
});

export const adminRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { manager, outcomes: counter, adminOnly },
) => {
  const admin = { tags: ['admin'], security: [{ bearer: [] }] };

  app.get(
    '/api/v1/admin/store',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        summary: 'Where the session store stands (admin)',
        response: { 200: storeStatus, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async () => {
      const status = await manager.status();
      return {
        backend: manager.backend,
        topology: status.topology ?? null,
        connected: manager.connected,
        on_memory_since: status.onMemorySince?.toISOString() ?? null,
        pending_writebacks: status.pendingWritebacks ?? 0,
        quarantined: status.quarantined ?? null,
        used_memory_bytes: status.usedMemoryBytes ?? null,
        maxmemory_bytes: status.maxmemoryBytes ?? null,
        maxmemory_policy: status.maxmemoryPolicy ?? null,
        evicted_keys: status.evictedKeys ?? null,
        keyspace_hits: status.keyspaceHits ?? null,
        keyspace_misses: status.keyspaceMisses ?? null,
        degraded_reason: status.degradedReason ?? null,
        degraded_detail: status.degradedDetail ?? null,
      };
    },
  );

  app.get(
    '/api/v1/admin/outcomes',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        summary: 'Turns per minute, and problems resolved, sent to a professional or open (admin)',
        querystring: z.strictObject({
          days: z.coerce
            .number()
            .int()
            .min(1)
            .max(OUTCOME_DAYS_KEPT)
            .default(7)
            .describe('Days counted, today included'),
        }),
        response: { 200: outcomes, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      const days = request.query.days;
      const report = await counter.report(new Date(), days);
      const counts = (row: { resolved: number; maxAttempts: number; open: number }) => ({
        resolved: row.resolved,
        max_attempts: row.maxAttempts,
        open: row.open,
      });
      return {
        turns_per_minute: report.turnsPerMinute,
        totals: counts(report.totals),
        by_topic: report.byTopic.map((row) => ({ topic: row.topic, ...counts(row) })),
        days,
      };
    },
  );
};
