/**
 * The chat routes a person's client calls: a message, a reset, the conversation read back. Their
 * shapes are the original clients' contract (web app, Open WebUI pipe); the session token
 * (`X-Session-Token`) is what keeps one person's conversation from another's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoTime } from '../../iso-time.js';
import { SessionAccessDeniedError, SessionNotFoundError } from '../../sessions/errors.js';
import type { TurnOutcome } from '../../sessions/manager.js';
import { replies, validation } from '../../texts/api.js';
import type { RouteDeps } from '../deps.js';
import { SESSION_PREFIX as OPENAI_SESSION_PREFIX } from '../openai/session.js';
import { agentState, errorBody, sessionId, sessionParams } from '../schemas.js';

export const MAX_MESSAGE_LENGTH = 4096;

/** The request header that carries a session's token. */
export const SESSION_TOKEN_HEADER = 'x-session-token';

export const chatRequest = z.strictObject({
  message: z
    .string()
    .trim()
    // A blank or too long message is reported alone, not with the rules after it.
    .min(1, { abort: true })
    .max(MAX_MESSAGE_LENGTH, { abort: true })
    .refine((text) => !text.includes('\u0000'), validation.nulCharacter)
    .refine((text) => /[\p{L}\p{N}]/u.test(text), validation.noLetterOrDigit)
    .describe('What the user said'),
  session_id: sessionId
    .optional()
    .describe('Omit to start a new conversation: the server makes a random id and returns it'),
  use_rag: z.boolean().default(true),
  use_web_search: z.boolean().default(true),
});

export const chatResponse = z.object({
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
    relevance_score: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe(
        'How well the best knowledge-base passage matched the message: the share of the ' +
          "message's word stems found in it, from 0 to 1; null when the knowledge base was not used",
      ),
  }),
  timestamp: z.string(),
  session_token: z
    .string()
    .optional()
    .describe(
      'Only when this request created the session: its token, given once (also in the ' +
        'X-Session-Token response header). Send it as X-Session-Token on every later request.',
    ),
});

/**
 * Refuses the ids of the OpenAI-compatible endpoint's sessions: those are reached with an API key
 * only, whatever SESSION_ACCESS says. A message is refused as a session held by someone else
 * (403); a reset or a history read as an unknown session (404).
 */
export function assertChatSessionId(sessionId: string | undefined, refusal: 'denied' | 'unknown') {
  if (sessionId === undefined || !sessionId.startsWith(OPENAI_SESSION_PREFIX)) return;
  throw refusal === 'denied'
    ? new SessionAccessDeniedError(sessionId, false)
    : new SessionNotFoundError(sessionId);
}

/** The token a request presents, if any. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const value = request.headers[SESSION_TOKEN_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The answer to a saved turn, in the original shape (plus the token of a new session). */
export function chatBody(outcome: TurnOutcome): z.input<typeof chatResponse> {
  const { result } = outcome;
  return {
    response: result.reply,
    session_id: outcome.sessionId,
    state: outcome.state,
    metadata: {
      rag_enabled: outcome.useRag,
      web_search_enabled: outcome.useWebSearch,
      current_attempt: outcome.currentAttempt,
      max_attempts: outcome.maxAttempts,
      sources: [...result.sources],
      web_sources: [...result.webSources],
      llm_provider: result.responder,
      fallback_used: result.fallbackUsed,
      web_search: result.webSearch,
      relevance_score: result.relevanceScore,
    },
    timestamp: isoTime(),
    ...(outcome.token !== undefined && { session_token: outcome.token }),
  };
}

/** Hands a new session's token to its client in the header too. */
export function sendToken(reply: FastifyReply, token: string | undefined): void {
  if (token !== undefined) reply.header(SESSION_TOKEN_HEADER, token);
}

const tokenHeader = z
  .object({
    [SESSION_TOKEN_HEADER]: z
      .string()
      .optional()
      .describe('The token returned when the session was created'),
  })
  .loose();

const history = z.object({
  session_id: z.string(),
  state: agentState,
  current_attempt: z.int(),
  max_attempts: z.int(),
  messages: z.array(
    z.object({ role: z.enum(['user', 'assistant']), content: z.string(), at: z.string() }),
  ),
  updated_at: z.string(),
});

export const chatRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { manager, config }) => {
  const rateLimit =
    config.api.rateLimitPerMinute > 0
      ? { max: config.api.rateLimitPerMinute, timeWindow: 60_000 }
      : false;

  app.post(
    '/api/v1/chat/message',
    {
      config: { rateLimit },
      schema: {
        summary: 'Send a message to the repair assistant',
        tags: ['chat'],
        headers: tokenHeader,
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
    async (request, reply) => {
      const { message, session_id, use_rag, use_web_search } = request.body;
      assertChatSessionId(session_id, 'denied');
      // A responder failure (timeout, model error) throws before the session changes: the turn
      // is not saved, and the session stays exactly as it was.
      const outcome = await manager.runTurn(session_id, message, {
        useRag: use_rag,
        useWebSearch: use_web_search,
        token: sessionTokenOf(request),
      });
      sendToken(reply, outcome.token);
      return chatBody(outcome);
    },
  );

  app.delete(
    '/api/v1/chat/reset/:session_id',
    {
      config: { rateLimit },
      schema: {
        summary: 'Start the session over with a new problem',
        description:
          'Answers 404 alike for an unknown session and for one whose token was not given. A session ' +
          'created before tokens gets one here, returned in X-Session-Token.',
        tags: ['chat'],
        headers: tokenHeader,
        params: sessionParams,
        response: { 200: z.object({ message: z.string() }), '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request, reply) => {
      const id = request.params.session_id;
      assertChatSessionId(id, 'unknown');
      const { token } = await manager.resetSession(id, { token: sessionTokenOf(request) });
      sendToken(reply, token);
      return { message: replies.reset(id) };
    },
  );

  app.get(
    '/api/v1/chat/history/:session_id',
    {
      config: { rateLimit },
      schema: {
        summary: 'The conversation so far, for the holder of its token',
        description:
          'Answers 404 alike for an unknown session and for one whose token was not given.',
        tags: ['chat'],
        headers: tokenHeader,
        params: sessionParams,
        response: { 200: history, '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request) => {
      assertChatSessionId(request.params.session_id, 'unknown');
      const found = await manager.history(request.params.session_id, {
        token: sessionTokenOf(request),
      });
      return {
        session_id: found.sessionId,
        state: found.state,
        current_attempt: found.currentAttempt,
        max_attempts: found.maxAttempts,
        messages: found.messages.map(({ role, content, at }) => ({ role, content, at })),
        updated_at: found.updatedAt,
      };
    },
  );
};
