/** Admin routes over whole sessions, history included. */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SessionNotFoundError } from '../../sessions/errors.js';
import { exportSessions } from '../../sessions/transfer.js';
import type { RouteDeps } from '../deps.js';
import { agentState, errorBody, sessionParams } from '../schemas.js';

const sessionDetails = z.object({
  session_id: z.string(),
  state: agentState,
  current_attempt: z.int(),
  max_attempts: z.int(),
  use_rag: z.boolean(),
  use_web_search: z.boolean(),
  problem: z.string().nullable(),
  conversation_history: z.array(
    z.object({ role: z.enum(['user', 'assistant']), content: z.string(), at: z.string() }),
  ),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.int(),
  ttl: z.int().nullable(),
});

export const sessionRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { manager, adminOnly },
) => {
  app.get(
    '/api/v1/export/sessions',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        summary:
          'Every session with its TTL, as JSON lines, what `cql-agent sessions import` reads (admin)',
      },
    },
    async (_request, reply) => {
      const lines = async function* () {
        for await (const line of exportSessions(manager.store, { cipher: manager.cipher }))
          yield `${JSON.stringify(line)}\n`;
      };
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    },
  );

  const schema = {
    tags: ['admin'],
    security: [{ bearer: [] }],
    params: sessionParams,
  };

  app.get(
    '/api/v1/sessions/:session_id',
    {
      onRequest: adminOnly,
      schema: {
        ...schema,
        summary: 'A whole session with its history and TTL (admin)',
        response: { 200: sessionDetails, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      const id = request.params.session_id;
      const found = await manager.getSession(id);
      if (found === null) throw new SessionNotFoundError(id);
      const { schema_version: _schema, ...record } = found.record;
      return { session_id: id, ...record, ttl: found.ttl };
    },
  );

  app.delete(
    '/api/v1/sessions/:session_id',
    {
      onRequest: adminOnly,
      schema: {
        ...schema,
        summary: 'Delete a session (admin)',
        response: { 204: z.null().describe('Deleted'), '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request, reply) => {
      const id = request.params.session_id;
      if (!(await manager.deleteSession(id))) throw new SessionNotFoundError(id);
      return reply.code(204).send(null);
    },
  );
};
