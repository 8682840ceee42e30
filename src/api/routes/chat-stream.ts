/**
 * POST /api/v1/chat/message/stream: the same turn as /api/v1/chat/message, its reply sent as it
 * is written (server-sent events): `delta` events `{"text"}`, then one `done` event carrying
 * exactly the body /message returns, or one `error` event `{"status", "detail"}`.
 *
 * What is known before the stream starts answers as plain JSON with its status: invalid input
 * (422), the rate limit (429), a session held by someone else (403). The session is saved once,
 * when the reply is complete; a client that goes away mid-stream does not stop the turn, which
 * is saved and found on reload.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errors } from '../../texts/api.js';
import type { RouteDeps } from '../deps.js';
import { toHttpProblem } from '../errors.js';
import { errorBody } from '../schemas.js';
import { type EventStream, startEventStream } from '../sse.js';
import { assertChatSessionId, chatBody, chatRequest, sessionTokenOf } from './chat.js';

export const chatStreamRoutes: FastifyPluginAsyncZod<RouteDeps> = async (
  app,
  { manager, config },
) => {
  app.post(
    '/api/v1/chat/message/stream',
    {
      config: {
        rateLimit:
          config.api.rateLimitPerMinute > 0
            ? { max: config.api.rateLimitPerMinute, timeWindow: 60_000 }
            : false,
      },
      schema: {
        summary: 'Send a message; the reply comes as server-sent events while it is written',
        description:
          'text/event-stream: `event: delta` with `{"text"}` (their concatenation is the reply), ' +
          'then `event: done` with the body /api/v1/chat/message returns, or `event: error` with ' +
          '`{"status", "detail"}`. Comment lines every 15 s keep the connection open. A new ' +
          "session's token comes in the done body's session_token.",
        tags: ['chat'],
        body: chatRequest,
        response: { '4xx': errorBody, '5xx': errorBody },
      },
    },
    async (request, reply) => {
      const { message, session_id, use_rag, use_web_search } = request.body;
      assertChatSessionId(session_id, 'denied');
      const token = sessionTokenOf(request);
      // The stream starts once the session is loaded and the caller accepted: a refusal (403)
      // before it is a plain JSON answer with its status; a failure after it, an error event.
      let stream: EventStream | undefined;
      try {
        const outcome = await manager.runTurn(session_id, message, {
          useRag: use_rag,
          useWebSearch: use_web_search,
          token,
          onAccepted: () => {
            stream = startEventStream(reply);
          },
          onDelta: (text) => stream?.send('delta', { text }),
        });
        stream?.send('done', chatBody(outcome));
      } catch (error) {
        if (stream === undefined) throw error;
        const problem = toHttpProblem(error);
        if (problem === undefined) {
          request.log.error(
            { err: error, event_type: 'request_failed' },
            'Erro inesperado ao atender a requisição',
          );
        }
        stream.send('error', {
          status: problem?.status ?? 500,
          detail: problem?.body.detail ?? errors.internal,
        });
      } finally {
        stream?.end();
      }
    },
  );
};
