/**
 * POST /api/v1/chat/message/stream: deltas, then the /message body; refusals before the stream as
 * plain JSON; a failure after the first delta as an error event, the session left as it was; a
 * client that goes away does not stop the turn from being saved.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { UpstreamError } from '../src/agent/llm/errors.js';
import type { Responder, SolutionReply } from '../src/agent/types.js';
import { injectClient } from './support/chat.js';
import { pausedResponder, testResponder } from './support/fixtures.js';
import { testApi } from './support/test-api.js';
import { until } from './support/until.js';

interface Event {
  event: string;
  data: unknown;
}

/** The events of a text/event-stream body, comments left out. */
function eventsOf(text: string): Event[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: JSON.parse(data) };
    });
}

const stream = (app: Awaited<ReturnType<typeof testApi>>['app'], payload: object, headers = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/chat/message/stream', payload, headers });

describe('the streamed chat route', () => {
  it('sends deltas whose concatenation is the reply, then the /message body', async () => {
    const { app, store } = await testApi();
    try {
      const response = await stream(app, { message: 'a torneira está pingando', session_id: 's1' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /text\/event-stream/);
      const events = eventsOf(response.body);
      const deltas = events.filter((e) => e.event === 'delta');
      assert.ok(deltas.length > 1, 'the reply comes in several pieces');
      const done = events.at(-1);
      assert.equal(done?.event, 'done');
      const body = done?.data as Record<string, unknown> & { response: string };
      assert.equal(deltas.map((d) => (d.data as { text: string }).text).join(''), body.response);
      assert.deepEqual(Object.keys(body).sort(), [
        'metadata',
        'response',
        'session_id',
        'session_token',
        'state',
        'timestamp',
      ]);
      assert.equal(body.state, 'waiting_feedback');
      const stored = JSON.parse((await store.get('s1')) ?? '{}');
      assert.equal(stored.conversation_history.length, 2, 'saved once, whole');
      assert.equal(stored.version, 1);
    } finally {
      await app.close();
    }
  });

  it('refuses before streaming: 422 for invalid input, 403 for a session held by someone else', async () => {
    const { app, store } = await testApi();
    try {
      const invalid = await stream(app, { message: 'x'.repeat(4097) });
      assert.equal(invalid.statusCode, 422);
      assert.equal(invalid.json().detail, 'A mensagem deve ter no máximo 4096 caracteres.');
      await injectClient(app).say('owned', 'a torneira está pingando');
      const before = await store.get('owned');
      const foreign = await stream(app, { message: 'sim', session_id: 'owned' });
      assert.equal(foreign.statusCode, 403);
      assert.match(foreign.json().detail, /X-Session-Token/);
      assert.equal(await store.get('owned'), before);
    } finally {
      await app.close();
    }
  });

  it('ends with an error event when the model fails after the first delta, and saves nothing', async () => {
    const inner = await testResponder();
    let failing = false;
    const flaky: Responder = {
      name: 'ollama',
      async solve(request, options): Promise<SolutionReply> {
        if (!failing) return inner.solve(request, options);
        options?.onDelta?.('Primeiro, feche o registro. ', { needsDetails: false });
        throw new UpstreamError('connection', 'ollama', 'the connection was cut');
      },
    };
    const { app, store } = await testApi({}, flaky);
    try {
      const client = injectClient(app);
      await client.say('cut', 'a torneira está pingando');
      const before = await store.get('cut');
      failing = true;
      const response = await stream(
        app,
        { message: 'não', session_id: 'cut' },
        { 'x-session-token': client.tokens.get('cut') ?? '' },
      );
      assert.equal(response.statusCode, 200, 'the stream had started');
      const events = eventsOf(response.body);
      const last = events.at(-1);
      assert.equal(last?.event, 'error');
      const data = last?.data as { status: number; detail: string } | undefined;
      assert.equal(data?.status, 502);
      assert.match(data?.detail ?? '', /Nada foi salvo/);
      assert.ok(!events.some((e) => e.event === 'done'));
      assert.equal(await store.get('cut'), before, 'the session is as it was');
    } finally {
      await app.close();
    }
  });

  it('saves the turn when the client goes away mid-stream', async () => {
    const { responder: slow, release } = await pausedResponder();
    const { app, store } = await testApi({}, slow);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/chat/message/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'a torneira está pingando', session_id: 'gone' }),
        signal: controller.signal,
      });
      const reader = response.body?.getReader();
      assert.ok(reader);
      let seen = '';
      while (!seen.includes('event: delta')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString();
      }
      assert.match(seen, /event: delta/, 'the first delta arrived before the reply was finished');
      assert.equal(await store.exists('gone'), false, 'nothing saved mid-turn');
      controller.abort();
      release();
      await until(() => store.exists('gone'), 'the turn to be saved');
      const stored = JSON.parse((await store.get('gone')) ?? '{}');
      assert.equal(stored.conversation_history.length, 2);
    } finally {
      release();
      await app.close();
    }
  });
});
