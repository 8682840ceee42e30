/**
 * Streamed completions on the wire: OpenAI's chunks and `data: [DONE]`; a failure before the
 * first piece answered as an ordinary error with its status; a failure after it as an error
 * chunk without [DONE], the session left as it was; a client that goes away does not stop the
 * turn from being saved.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { UpstreamError } from '../src/agent/llm/errors.js';
import type { Responder, SolutionReply } from '../src/agent/types.js';
import { pausedResponder, testResponder } from './support/fixtures.js';
import { testApi } from './support/test-api.js';
import { until } from './support/until.js';

const KEY = 'openai-compat-key-for-tests-one';
const OPENING = 'a torneira está pingando';

async function served(responder?: Responder) {
  const api = await testApi({ OPENAI_COMPAT_API_KEYS: KEY }, responder);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/v1`;
  const client = new OpenAI({ apiKey: KEY, baseURL: base, maxRetries: 0 });
  return { ...api, base, client };
}

/** A raw streamed request, read to its end. */
async function rawStream(base: string, messages: unknown[], user: string) {
  const response = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'cql-agent', messages, user, stream: true }),
  });
  const text = await response.text();
  const data = text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
  return { response, text, data };
}

/** A responder over the bundled one that, once `failing` is set, fails as `fail` says. */
async function flakyResponder(fail: (options: Parameters<Responder['solve']>[1]) => never) {
  const inner = await testResponder();
  const state = { failing: false };
  const responder: Responder = {
    name: 'ollama',
    async solve(request, options): Promise<SolutionReply> {
      if (!state.failing) return inner.solve(request, options);
      return fail(options);
    },
  };
  return { responder, state };
}

describe('a streamed completion on the wire', () => {
  it('is server-sent chunks: the role, the content, "stop", then data: [DONE]', async () => {
    const api = await served();
    try {
      const { response, data } = await rawStream(
        api.base,
        [{ role: 'user', content: OPENING }],
        'wire-ana',
      );
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(data.at(-1), '[DONE]');
      const chunks = data.slice(0, -1).map((line) => JSON.parse(line));
      for (const chunk of chunks) assert.equal(chunk.object, 'chat.completion.chunk');
      assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
      assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
      assert.ok(
        chunks.slice(0, -1).every((chunk) => chunk.choices[0].finish_reason === null),
        'only the last chunk finishes',
      );
      const reply = chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('');
      const [entry] = (await api.store.list()).entries;
      const session = JSON.parse((await api.store.get(entry?.id ?? '')) ?? '{}');
      assert.equal(reply, session.conversation_history[1].content);
    } finally {
      await api.app.close();
    }
  });

  it('answers a failure before the first piece as an ordinary error with its status', async () => {
    const { responder, state } = await flakyResponder(() => {
      throw new UpstreamError('timeout', 'ollama', 'no answer within the deadline');
    });
    const api = await served(responder);
    try {
      state.failing = true;
      const messages = [{ role: 'user' as const, content: OPENING }];
      const raw = await fetch(`${api.base}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cql-agent', messages, stream: true }),
      });
      assert.equal(raw.status, 504);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await raw.json()) as { error: { type: string; code: string; message: string } };
      assert.equal(body.error.type, 'server_error');
      assert.equal(body.error.code, 'timeout');
      assert.match(body.error.message, /LLM_TIMEOUT/);

      try {
        const stream = await api.client.chat.completions.create({
          model: 'cql-agent',
          messages,
          stream: true,
        });
        for await (const _chunk of stream) assert.fail('no chunk was expected');
        assert.fail('expected the request to be refused');
      } catch (error) {
        assert.ok(error instanceof OpenAI.InternalServerError, String(error));
        assert.equal(error.status, 504);
      }
      assert.equal(api.store.size, 0, 'nothing saved');
    } finally {
      await api.app.close();
    }
  });

  it('ends with an error chunk and no [DONE] when the model fails after the first piece', async () => {
    const { responder, state } = await flakyResponder((options) => {
      // A later attempt's beginning is held until it shows whether it names the attempt.
      options?.onDelta?.('Tentativa 2 de 3.\n\nPrimeiro, feche o registro. ', {
        needsDetails: false,
      });
      throw new UpstreamError('connection', 'ollama', 'the connection was cut');
    });
    const api = await served(responder);
    try {
      const opened = await api.client.chat.completions.create({
        model: 'cql-agent',
        messages: [{ role: 'user', content: OPENING }],
        user: 'cut-bia',
      });
      const [entry] = (await api.store.list()).entries;
      const before = await api.store.get(entry?.id ?? '');
      state.failing = true;
      const messages = [
        { role: 'user' as const, content: OPENING },
        { role: 'assistant' as const, content: opened.choices[0]?.message.content ?? '' },
        { role: 'user' as const, content: 'não' },
      ];

      const { response, data } = await rawStream(api.base, messages, 'cut-bia');
      assert.equal(response.status, 200, 'the stream had started');
      assert.ok(!data.includes('[DONE]'), 'no [DONE] after a failure');
      const last = JSON.parse(data.at(-1) ?? '{}');
      assert.equal(last.error.type, 'server_error');
      assert.equal(last.error.code, 'model_error');
      assert.match(last.error.message, /Nada foi salvo/);

      let received = '';
      try {
        const stream = await api.client.chat.completions.create({
          model: 'cql-agent',
          messages,
          user: 'cut-bia',
          stream: true,
        });
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
        assert.fail('expected the stream to fail');
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.match(error.message, /Nada foi salvo/);
      }
      assert.match(received, /Primeiro, feche o registro/, 'the first piece had arrived');
      assert.equal(await api.store.get(entry?.id ?? ''), before, 'the session is as it was');
    } finally {
      await api.app.close();
    }
  });

  it('saves the turn when the client goes away mid-stream', async () => {
    const { responder: slow, release } = await pausedResponder();
    const api = await served(slow);
    try {
      const stream = await api.client.chat.completions.create({
        model: 'cql-agent',
        messages: [{ role: 'user', content: OPENING }],
        user: 'gone-caio',
        stream: true,
      });
      let received = '';
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? '';
        if (received !== '') break;
      }
      assert.ok(received.length > 0, 'a first piece arrived before the reply was finished');
      assert.equal(api.store.size, 0, 'nothing saved mid-turn');
      // Leaving the loop aborted the request; the turn goes on.
      assert.ok(stream.controller.signal.aborted);
      release();
      await until(() => api.store.size === 1, 'the turn to be saved');
      const [entry] = (await api.store.list()).entries;
      const session = JSON.parse((await api.store.get(entry?.id ?? '')) ?? '{}');
      assert.equal(session.conversation_history.length, 2);
      assert.equal(session.state, 'waiting_feedback');
    } finally {
      release();
      await api.app.close();
    }
  });
});
