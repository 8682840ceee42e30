/** Admin routes over whole sessions, history included: list, read, delete, extend, export. */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_SESSION_TTL_SECONDS } from '../../config.js';
import { SessionNotFoundError } from '../../sessions/errors.js';
import type { RouteDeps } from '../deps.js';
import { agentState, errorBody, sessionParams } from '../schemas.js';

/** Largest page of the listing, and its size when `limit` is not given. */
export const MAX_PAGE = 1000;

const sessionList = z.object({
  sessions: z.array(
    z.object({
      session_id: z.string(),
      state: agentState,
      current_attempt: z.int(),
      ttl: z.int().nullable(),
      updated_at: z.string(),
      size_bytes: z.int().nullable().describe('Size of the stored value; null when unknown'),
    }),
  ),
  total: z.int().describe('Sessions in this page'),
  cursor: z
    .string()
    .nullable()
    .describe('Pass as ?cursor= for the next page; null when the listing is complete'),
});

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
  reset_at: z.string().nullable(),
  topic: z.string().nullable(),
  token_sha256: z
    .string()
    .nullable()
    .describe('SHA-256 of the session token (never the token); null: reachable by id'),
  version: z.int(),
  ttl: z.int().nullable(),
});

export const sessionRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { manager, adminOnly },
) => {
  const admin = { tags: ['admin'], security: [{ bearer: [] }] };

  app.get(
    '/api/v1/chat/sessions',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        summary: 'List sessions, a page at a time (admin)',
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(MAX_PAGE),
          cursor: z.string().min(1).max(512).optional(),
          state: agentState.optional(),
          prefix: z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,128}$/)
            .optional()
            .describe('Only ids starting with this'),
        }),
        response: { 200: sessionList, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      const { limit, cursor, state, prefix } = request.query;
      const page = await manager.listPage({ limit, cursor, state, prefix });
      return {
        sessions: page.sessions.map((s) => ({
          session_id: s.sessionId,
          state: s.state,
          current_attempt: s.currentAttempt,
          ttl: s.ttl,
          updated_at: s.updatedAt,
          size_bytes: s.bytes ?? null,
        })),
        total: page.sessions.length,
        cursor: page.cursor ?? null,
      };
    },
  );

  app.get(
    '/api/v1/export/sessions',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        summary:
          'Every session with its TTL, as JSON lines, what `cql-agent sessions import` reads (admin)',
      },
    },
    async (_request, reply) => {
      const lines = async function* () {
        for await (const line of manager.export()) yield `${JSON.stringify(line)}\n`;
      };
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    },
  );

  app.get(
    '/api/v1/sessions/:session_id',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        params: sessionParams,
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
        ...admin,
        params: sessionParams,
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

  app.post(
    '/api/v1/sessions/:session_id/ttl',
    {
      onRequest: adminOnly,
      schema: {
        ...admin,
        params: sessionParams,
        body: z.strictObject({
          ttl_seconds: z.int().min(1).max(MAX_SESSION_TTL_SECONDS),
        }),
        summary: 'Give a session this many seconds to live from now (admin)',
        response: {
          200: z.object({ session_id: z.string(), ttl: z.int().nullable() }),
          '4xx': errorBody,
          '5xx': errorBody,
        },
      },
    },
    async (request) => {
      const id = request.params.session_id;
      const ttl = await manager.setTtl(id, request.body.ttl_seconds);
      return { session_id: id, ttl };
    },
  );
};
