/**
 * The OpenAI-compatible endpoint under /v1 (GET /v1/models, POST /v1/chat/completions), so that
 * any chat client that speaks OpenAI's protocol (Open WebUI, LibreChat, LobeChat, the OpenAI
 * SDKs) talks to the agent as to a model. Off, and answering 404 like any unknown route, while
 * OPENAI_COMPAT_API_KEYS is empty. Its answers and errors are OpenAI's shapes.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SessionNotFoundError } from '../../sessions/errors.js';
import type { SessionManager, TurnOutcome } from '../../sessions/manager.js';
import { errors } from '../../texts/api.js';
import { openaiErrors } from '../../texts/openai.js';
import type { RouteDeps } from '../deps.js';
import { keyRing } from '../openai/auth.js';
import { readConversation, turnOf } from '../openai/conversation.js';
import {
  internalProblem,
  OPENAI_BODY_LIMIT_BYTES,
  OpenAiError,
  type OpenAiProblem,
  openAiProblem,
  toOpenAiProblem,
} from '../openai/errors.js';
import { agentInfoOf, completion, newFrame } from '../openai/format.js';
import { AGENT_MODELS, type AgentModel, findModel, MODEL_OWNER } from '../openai/models.js';
import {
  completionRequest,
  completionResponse,
  modelList,
  modelObject,
  modelParams,
  openAiErrorBody,
} from '../openai/schemas.js';
import {
  CHAT_ID_HEADER,
  conversationKey,
  sessionIdFor,
  sessionTokenFor,
} from '../openai/session.js';
import { CompletionStream } from '../openai/stream.js';
import { isBackgroundTask, taskReply } from '../openai/tasks.js';

const LISTED_IDS = AGENT_MODELS.map((model) => model.id);

const errorResponses = { '4xx': openAiErrorBody, '5xx': openAiErrorBody };

const chatIdHeader = z
  .object({
    [CHAT_ID_HEADER]: z
      .string()
      .optional()
      .describe("Open WebUI's chat id (ENABLE_FORWARD_USER_INFO_HEADERS=true): names the session"),
  })
  .loose();

/** The model a request names; OpenAiError 404 (`model_not_found`) for any other name. */
function modelNamed(name: string): AgentModel {
  const model = findModel(name);
  if (model === undefined) {
    throw new OpenAiError(404, openaiErrors.modelNotFound(name, LISTED_IDS), {
      code: 'model_not_found',
      param: 'model',
    });
  }
  return model;
}

/** A conversation whose only user message is this one starts over, whatever the session held. */
async function startOver(manager: SessionManager, sessionId: string, token: string) {
  try {
    await manager.resetSession(sessionId, { token });
  } catch (error) {
    if (!(error instanceof SessionNotFoundError)) throw error;
  }
}

/** The endpoint itself, under /v1, with its own key check, errors and 404 in OpenAI's shape. */
const v1Routes: FastifyPluginAsyncZod<RouteDeps> = async (app, { manager, config }) => {
  const keys = keyRing(config.api.openaiCompatApiKeys);
  const callers = new WeakMap<FastifyRequest, string>();
  const listedAt = Math.floor(Date.now() / 1000);
  const rateLimit =
    config.api.rateLimitPerMinute > 0
      ? { max: config.api.rateLimitPerMinute, timeWindow: 60_000 }
      : false;

  /** The answer to an error, logged as the server's handler logs it. */
  const problemOf = (error: unknown, request: FastifyRequest): OpenAiProblem => {
    const problem = toOpenAiProblem(error, request);
    if (problem === undefined) {
      request.log.error(
        { err: error, event_type: 'request_failed' },
        'Erro inesperado ao atender a requisição',
      );
      return internalProblem();
    }
    if (problem.status >= 500) {
      request.log.error(
        { reason: (error as Error).message, event_type: 'request_failed' },
        'Falha ao atender a requisição',
      );
    }
    return problem;
  };

  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error, request);
    if (problem.headers) reply.headers(problem.headers);
    return reply.code(problem.status).send(problem.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    return reply.code(404).send(openAiProblem(404, errors.noRoute(request.method, path)).body);
  });
  // Before the body is read: a caller without a key gets nothing parsed.
  app.addHook('onRequest', async (request) => {
    callers.set(request, keys.keyOf(request));
  });

  const modelOf = (model: AgentModel) => ({
    id: model.id,
    object: 'model' as const,
    created: listedAt,
    owned_by: MODEL_OWNER,
  });

  app.get(
    '/models',
    {
      schema: {
        summary:
          'The agent as models: with knowledge base and web search, knowledge base only, neither',
        tags: ['openai'],
        security: [{ bearer: [] }],
        response: { 200: modelList, ...errorResponses },
      },
    },
    async () => ({ object: 'list' as const, data: AGENT_MODELS.map(modelOf) }),
  );

  app.get(
    '/models/:model',
    {
      schema: {
        summary: 'One model (the original pipe’s ids are accepted as aliases)',
        tags: ['openai'],
        security: [{ bearer: [] }],
        params: modelParams,
        response: { 200: modelObject, ...errorResponses },
      },
    },
    async (request) => modelOf(modelNamed(request.params.model)),
  );

  app.post(
    '/chat/completions',
    {
      bodyLimit: OPENAI_BODY_LIMIT_BYTES,
      config: { rateLimit },
      schema: {
        summary: 'One turn of a repair conversation, in OpenAI’s chat-completions format',
        description:
          'The last user message is the turn; the earlier ones come from the session the ' +
          'conversation maps to (X-OpenWebUI-Chat-Id, else metadata.session_id, else user with ' +
          'the first user message, else the first user message alone; always within the ' +
          'caller’s key). A list with a single user message starts the session over. With ' +
          '`stream: true` the answer is text/event-stream: chat.completion.chunk events, then ' +
          '`data: [DONE]`; a failure after the first chunk is a `data: {"error": ...}` event ' +
          'and no [DONE]. A message starting with `### Task:` (a chat client’s title, tags, ' +
          'follow-ups) gets a short answer and touches no session.',
        tags: ['openai'],
        security: [{ bearer: [] }],
        headers: chatIdHeader,
        body: completionRequest,
        response: { 200: completionResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const model = modelNamed(body.model);
      const conversation = readConversation(body.messages);
      const frame = newFrame(model.id);
      const streamed = body.stream === true;

      if (isBackgroundTask(conversation.last)) {
        const content = taskReply(conversation.last);
        if (!streamed) return completion(frame, content);
        const stream = new CompletionStream(reply, frame);
        stream.delta(content);
        stream.finish();
        return reply;
      }

      const turn = turnOf(conversation);
      const apiKey = callers.get(request);
      if (apiKey === undefined) throw new Error('the key check did not run before the route');
      const chatId = request.headers[CHAT_ID_HEADER];
      const key = conversationKey({
        chatId: typeof chatId === 'string' ? chatId : undefined,
        metadataSessionId: body.metadata?.session_id,
        user: body.user,
        opening: conversation.opening,
      });
      const sessionId = sessionIdFor(apiKey, key);
      const token = sessionTokenFor(apiKey, sessionId);
      request.log.debug(
        { session_id: sessionId, session_source: key.source, event_type: 'openai_session' },
        'Sessão da conversa compatível com OpenAI',
      );
      if (conversation.userMessages === 1) await startOver(manager, sessionId, token);
      const options = {
        useRag: model.useRag,
        useWebSearch: model.useWebSearch,
        token,
        createWithToken: token,
      };

      if (!streamed) {
        const outcome = await manager.runTurn(sessionId, turn, options);
        return completion(frame, outcome.result.reply, agentInfoOf(outcome));
      }
      // The turn goes on, and is saved, if the client goes away: writes to it are dropped.
      const stream = new CompletionStream(reply, frame);
      let outcome: TurnOutcome;
      try {
        outcome = await manager.runTurn(sessionId, turn, {
          ...options,
          onDelta: (text) => stream.delta(text),
        });
      } catch (error) {
        if (!stream.started) throw error;
        stream.fail(problemOf(error, request).body);
        return reply;
      }
      // A reply that came whole (nothing was streamed) goes as one piece.
      if (!stream.started) stream.delta(outcome.result.reply);
      stream.finish(agentInfoOf(outcome));
      return reply;
    },
  );
};

/** Registers the endpoint under /v1 when OPENAI_COMPAT_API_KEYS holds a key. */
export const openAiRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  if (deps.config.api.openaiCompatApiKeys.length === 0) return;
  await app.register(v1Routes, { ...deps, prefix: '/v1' });
};
