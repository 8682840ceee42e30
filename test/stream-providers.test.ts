import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { UpstreamError, type UpstreamFailure } from '../src/agent/llm/errors.js';
import type { ChatModel, LlmMessage, StreamOptions } from '../src/agent/llm/model.js';
import { OllamaChatModel } from '../src/agent/llm/ollama.js';
import { OpenAiChatModel } from '../src/agent/llm/openai.js';
import {
  FakeServer,
  Gate,
  hang,
  json,
  raw,
  refusingUrl,
  reply,
  streamed,
  trickle,
  type Wire,
} from './support/fake-llm.js';
import { until } from './support/until.js';

const MESSAGES: LlmMessage[] = [
  { role: 'system', content: 'Você é um assistente de reparos.' },
  { role: 'user', content: 'a torneira está pingando' },
];

const SSE = 'text/event-stream';
const TOKENS = ['Feche ', 'o registro', ' e troque', ' o courinho.', '\n\n', 'Pronto.'];

/** Streams a reply, recording each piece in `events` as "delta:<text>". */
function streamInto(
  model: ChatModel,
  events: string[],
  options: Partial<StreamOptions> = {},
): Promise<{ text: string; truncated: boolean; received?: number }> {
  return model.stream(MESSAGES, {
    onText: (text) => events.push(`delta:${text}`),
    ...options,
  });
}

const deltasOf = (events: readonly string[]) =>
  events.filter((e) => e.startsWith('delta:')).map((e) => e.slice('delta:'.length));

async function failure(call: Promise<unknown>, kind: UpstreamFailure): Promise<UpstreamError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, String(error));
    assert.equal(error.failure, kind, error.message);
    return error;
  }
  assert.fail(`expected a ${kind} failure`);
}

for (const wire of ['ollama', 'openai'] as const satisfies readonly Wire[]) {
  describe(`${wire} streamed reply`, () => {
    let server: FakeServer;
    before(async () => {
      server = await FakeServer.start(wire);
    });
    beforeEach(() => server.clear());
    after(() => server.close());
    const make = (url = server.url, timeoutMs = 5000): ChatModel =>
      wire === 'ollama'
        ? new OllamaChatModel({ baseUrl: url, model: 'qwen2.5:3b', timeoutMs })
        : new OpenAiChatModel({ baseUrl: url, model: 'local', timeoutMs, apiKey: 'sk-test-1234' });

    it('passes pieces on before the server finished, adding up to the reply', async () => {
      const events: string[] = [];
      const gate = new Gate();
      server.behave(streamed({ tokens: TOKENS, holdAt: 3, gate, events }));
      const call = streamInto(make(), events);
      await until(() => deltasOf(events).length >= 2, 'the first pieces');
      assert.ok(!events.includes('end'), 'the server has not finished');
      gate.open();
      const result = await call;
      assert.equal(result.text, 'Feche o registro e troque o courinho.\n\nPronto.');
      assert.equal(deltasOf(events).join(''), result.text);
      assert.ok(events.indexOf('delta:Feche') < events.indexOf('end'));
      assert.equal(result.truncated, false);
      assert.equal(server.last.body?.stream, true);
      assert.deepEqual(server.last.body?.messages, MESSAGES);
    });

    it('says when the model stopped at its token limit', async () => {
      server.behave(streamed({ tokens: ['Feche o', ' registro e'], finish: 'length' }));
      const result = await streamInto(make(), []);
      assert.deepEqual(result, { text: 'Feche o registro e', truncated: true });
    });

    it('fails as a whole reply fails before the stream starts', async () => {
      server.behave(json({ error: 'model not found' }, 404));
      const error = await failure(streamInto(make(), []), 'http');
      assert.equal(error.status, 404);
      assert.equal(error.upstreamReason, 'model not found');
      assert.equal(error.sentChars, 0);
      await failure(streamInto(make(await refusingUrl()), []), 'connection');
    });

    it('reports a connection closed in the middle of the reply', async () => {
      const events: string[] = [];
      server.behave(streamed({ tokens: TOKENS, failAfter: 2, events }));
      const error = await failure(streamInto(make(), events), 'connection');
      assert.deepEqual(deltasOf(events), ['Feche', ' o registro']);
      assert.ok(events.indexOf('delta:Feche') < events.indexOf('failed'));
      assert.doesNotMatch(error.message, /127\.0\.0\.1/);
    });

    it("reports the server's error sent in the middle of the reply", async () => {
      const events: string[] = [];
      server.behave(streamed({ tokens: TOKENS, failAfter: 1, failWith: 'error', events }));
      const error = await failure(streamInto(make(), events), 'http');
      assert.match(error.message, /reported an error in the streamed reply/);
      assert.match(error.upstreamReason ?? '', /stopped|crashed/);
      assert.deepEqual(deltasOf(events), ['Feche']);
    });

    it('refuses a stream that ends before the reply is complete', async () => {
      const line =
        wire === 'ollama'
          ? '{"message":{"content":"Feche"},"done":false}\n'
          : 'data: {"choices":[{"delta":{"content":"Feche"}}]}\n\n';
      server.behave(raw(line, 200, wire === 'ollama' ? 'application/x-ndjson' : SSE));
      await failure(streamInto(make(), []), 'connection');
    });

    it('refuses a line it cannot read', async () => {
      server.behave(
        wire === 'ollama'
          ? raw('{"message": {"content": "Pas\n', 200, 'application/x-ndjson')
          : raw('data: {oops\n\n', 200, SSE),
      );
      const error = await failure(streamInto(make(), []), 'malformed');
      assert.match(error.upstreamReason ?? '', /starts with/);
    });

    it('refuses an empty reply, or one with only a reasoning block', async () => {
      for (const tokens of [[], ['  ', '\n'], ['<think>', 'hmm', '</think>', '\n']]) {
        server.behave(streamed({ tokens }));
        await failure(streamInto(make(), []), 'empty');
      }
    });

    it('waits for the first piece of text at most the deadline', async () => {
      server.behave(hang);
      const error = await failure(streamInto(make(server.url, 300), []), 'timeout');
      assert.match(error.message, /no reply within 0\.3 s/);
      server.behave(trickle);
      await failure(streamInto(make(server.url, 5000), [], { timeoutMs: 300 }), 'timeout');
      // Reasoning is not text: the first deadline still runs while the model thinks.
      server.behave(streamed({ tokens: ['<think>', 'hmm'], holdAt: 2, gate: new Gate() }));
      await failure(streamInto(make(server.url, 300), []), 'timeout');
    });

    it('then gives up on a silence longer than the idle deadline', async () => {
      const events: string[] = [];
      server.behave(streamed({ tokens: TOKENS, holdAt: 2, gate: new Gate(), events }));
      // Two pieces at once, then none: long enough that the second certainly comes in time.
      const error = await failure(streamInto(make(), events, { idleTimeoutMs: 1000 }), 'timeout');
      assert.match(error.message, /the reply stopped for 1 s/);
      assert.deepEqual(deltasOf(events), ['Feche', ' o registro']);
    });

    it('and on a reply that goes on past the whole deadline', async () => {
      const tokens = Array.from({ length: 100000 }, () => 'passo ');
      server.behave(streamed({ tokens, pauseMs: 5 }));
      const events: string[] = [];
      // A reply of 500 s: the deadline certainly ends it, after its first pieces.
      const error = await failure(
        streamInto(make(), events, { idleTimeoutMs: 5000, maxDurationMs: 1500 }),
        'timeout',
      );
      assert.match(error.message, /not complete within 1\.5 s/);
      assert.ok(deltasOf(events).length > 0, 'pieces were passed on before');
    });

    it('cuts a reply longer than the limit and stops reading it', async () => {
      const paragraph = `${'Passo com cuidado. '.repeat(10).trim()}\n\n`;
      const events: string[] = [];
      server.behave(streamed({ tokens: Array.from({ length: 500 }, () => paragraph), events }));
      const result = await streamInto(make(), events, { maxChars: 1000 });
      assert.ok(result.text.length <= 1000, String(result.text.length));
      assert.ok(result.text.endsWith('Passo com cuidado.'));
      assert.equal(deltasOf(events).join(''), result.text);
      assert.ok((result.received ?? 0) > 1000);
      await until(() => events.includes('client-closed'), 'the connection to be closed');
      assert.ok(!events.includes('end'), 'the rest was not read');
    });

    it('stops when its caller aborts, with the reason, closing the connection', async () => {
      const events: string[] = [];
      server.behave(streamed({ tokens: TOKENS, holdAt: 2, gate: new Gate(), events }));
      const controller = new AbortController();
      const call = streamInto(make(), events, { signal: controller.signal });
      await until(() => deltasOf(events).length === 2, 'two pieces');
      const reason = new Error('client left');
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      await until(() => events.includes('client-closed'), 'the connection to be closed');
    });

    it('ends the call with the exception its listener throws', async () => {
      const events: string[] = [];
      server.behave(streamed({ tokens: TOKENS, holdAt: 3, gate: new Gate(), events }));
      const boom = new Error('socket gone');
      await assert.rejects(
        make().stream(MESSAGES, {
          onText: () => {
            throw boom;
          },
        }),
        (error) => error === boom,
      );
      await until(() => events.includes('client-closed'), 'the connection to be closed');
    });

    it('strips reasoning blocks as they stream', async () => {
      server.behave(streamed({ tokens: ['<th', 'ink>o usuário', ' quer</thi', 'nk>\n\nTroque.'] }));
      const events: string[] = [];
      const result = await streamInto(make(), events);
      assert.equal(result.text, 'Troque.');
      assert.deepEqual(deltasOf(events), ['Troque.']);
    });
  });
}

describe('OpenAI-compatible streamed reply, server specifics', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('openai');
  });
  after(() => server.close());
  const make = () =>
    new OpenAiChatModel({ baseUrl: server.url, model: 'local', timeoutMs: 5000, apiKey: 'sk-x1' });

  it('takes a whole JSON answer from a server that does not stream', async () => {
    server.behave(
      json({ choices: [{ message: { content: ' Troque o courinho. ' }, finish_reason: 'stop' }] }),
    );
    const events: string[] = [];
    const result = await streamInto(make(), events);
    assert.equal(result.text, 'Troque o courinho.');
    assert.deepEqual(deltasOf(events), ['Troque o courinho.']);
    assert.equal(server.last.headers.authorization, 'Bearer sk-x1');
  });

  it('reads events split over several data lines, comments and usage chunks', async () => {
    server.behave(
      raw(
        ': keep-alive\n\n' +
          'data: {"choices":[{"delta":{"role":"assistant","content":"Tro"}}]}\n\n' +
          'data: {"choices":[{"delta":\ndata: {"content":"que."}}]}\n\n' +
          'data: {"choices":[],"usage":{"total_tokens":3}}\n\n' +
          'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n' +
          'data: [DONE]\n\n',
        200,
        SSE,
      ),
    );
    assert.equal((await streamInto(make(), [])).text, 'Troque.');
  });

  it('treats a reply withheld by the content filter as empty', async () => {
    server.behave(streamed({ tokens: [], finish: 'content_filter' }));
    const error = await failure(streamInto(make(), []), 'empty');
    assert.match(error.message, /content filter/);
  });

  it('hides the key a server echoes in an error event', async () => {
    server.behave(
      raw(
        'event: error\ndata: {"error":{"message":"bad key sk-x1 here","code":401}}\n\n',
        200,
        SSE,
      ),
    );
    const error = await failure(streamInto(make(), []), 'http');
    assert.equal(error.status, 401);
    assert.doesNotMatch(error.upstreamReason ?? '', /sk-x1/);
  });
});

describe('the fake server', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('ollama');
  });
  after(() => server?.close());

  it('lets the fake server stream the plain reply behaviour too', async () => {
    server.behave(reply('Feche o registro e troque o courinho.'));
    const events: string[] = [];
    const model = new OllamaChatModel({ baseUrl: server.url, model: 'm', timeoutMs: 30000 });
    const result = await streamInto(model, events);
    assert.equal(result.text, 'Feche o registro e troque o courinho.');
    assert.ok(deltasOf(events).length > 1, 'in several pieces');
  });
});
