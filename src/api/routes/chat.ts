/** The chat routes the original clients (web app, OpenWebUI pipe) call; their shapes are a
 * contract. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TurnResult } from '../../agent/types.js';
import type { RouteDeps } from '../deps.js';
import { modelReplyTooLarge } from '../errors.js';
import { agentState, errorBody, sessionId, sessionParams } from '../schemas.js';

export const MAX_MESSAGE_LENGTH = 4096;

const chatRequest = z.strictObject({
  message: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`)
    .refine((text) => !text.includes('\u0000'), 'must not contain a NUL character')
    .refine((text) => /[\p{L}\p{N}]/u.test(text), 'must contain a letter or a digit')
    .describe('What the user said'),
  session_id: sessionId.default('default'),
  use_rag: z.boolean().default(true),
  use_web_search: z.boolean().default(true),
});

const chatResponse = z.object({
  response: z.string(),
  session_id: z.string(),
  state: agentState,
  metadata: z.object({
    rag_enabled: z.boolean(),
    web_search_enabled: z.boolean(),
    current_attempt: z.int(),
    max_attempts: z.int(),
    sources: z
      .array(z.string())
      .describe('Knowledge-base documents the reply was based on (file names without .md)'),
    web_sources: z.array(z.string()).describe('Web pages whose excerpts the model was given'),
    llm_provider: z.string().describe('Who writes the solutions: offline, ollama or openai'),
    fallback_used: z
      .boolean()
      .describe('True when the model failed and the offline responder answered instead'),
    web_search: z
      .enum(['disabled', 'not_needed', 'unavailable', 'no_results', 'used'])
      .describe(
        'disabled: turned off; not_needed: the knowledge base had the answer (or no search was ' +
          'needed); unavailable: no search service configured, or it failed; no_results: it ' +
          'found nothing; used: its results were given to the model',
      ),
  }),
  timestamp: z.string(),
});

const sessionList = z.object({
  sessions: z.array(
    z.object({
      session_id: z.string(),
      state: agentState,
      current_attempt: z.int(),
      ttl: z.int().nullable(),
    }),
  ),
  total: z.int(),
});

export const chatRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { manager, config, adminOnly },
) => {
  app.post(
    '/api/v1/chat/message',
    {
      config: {
        rateLimit:
          config.api.rateLimitPerMinute > 0
            ? { max: config.api.rateLimitPerMinute, timeWindow: 60_000 }
            : false,
      },
      schema: {
        summary: 'Send a message to the repair assistant',
        tags: ['chat'],
        body: chatRequest,
        response: {
          200: chatResponse,
          '4xx': errorBody,
          502: errorBody.describe(
            'The language model failed (HTTP error, malformed or empty reply, unreachable, or a reply too large to store); nothing was saved',
          ),
          503: errorBody.describe(
            'The session store is unavailable, or the language model is not called for a while after repeated failures (Retry-After); nothing was saved',
          ),
          504: errorBody.describe(
            'The language model did not answer within LLM_TIMEOUT; nothing was saved',
          ),
          '5xx': errorBody,
        },
      },
    },
    async (request) => {
      const { message, session_id, use_rag, use_web_search } = request.body;
      // A responder failure (timeout, model error) throws before the agent changes: the turn
      // is not saved, and the session stays exactly as it was.
      let answered: TurnResult | undefined;
      const agent = await manager
        .withSession(
          session_id,
          async (agent) => {
            answered = await agent.respond(message);
            return agent;
          },
          { useRag: use_rag, useWebSearch: use_web_search },
        )
        .catch((error: unknown) => {
          throw modelReplyTooLarge(error, answered) ?? error;
        });
      const turn = answered as TurnResult;
      return {
        response: turn.reply,
        session_id,
        state: agent.state,
        metadata: {
          rag_enabled: agent.useRag,
          web_search_enabled: agent.useWebSearch,
          current_attempt: agent.currentAttempt,
          max_attempts: agent.maxAttempts,
          sources: [...turn.sources],
          web_sources: [...turn.webSources],
          llm_provider: turn.responder,
          fallback_used: turn.fallbackUsed,
          web_search: turn.webSearch,
        },
        timestamp: new Date().toISOString(),
      };
    },
  );

  app.delete(
    '/api/v1/chat/reset/:session_id',
    {
      schema: {
        summary: 'Start the session over with a new problem',
        tags: ['chat'],
        params: sessionParams,
        response: { 200: z.object({ message: z.string() }), '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      const id = request.params.session_id;
      await manager.withSession(id, async (agent) => agent.reset(), {}, { mustExist: true });
      return { message: `Sessão ${id} resetada com sucesso` };
    },
  );

  app.get(
    '/api/v1/chat/sessions',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'List sessions (admin)',
        tags: ['admin'],
        security: [{ bearer: [] }],
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(100000).optional(),
        }),
        response: { 200: sessionList, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      const sessions = await manager.listSessions({ limit: request.query.limit });
      return {
        sessions: sessions.map((s) => ({
          session_id: s.sessionId,
          state: s.state,
          current_attempt: s.currentAttempt,
          ttl: s.ttl,
        })),
        total: sessions.length,
      };
    },
  );
};
