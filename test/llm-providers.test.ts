import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { UpstreamError, type UpstreamFailure } from '../src/agent/llm/errors.js';
import { redactSecrets, requestJson } from '../src/agent/llm/http.js';
import type { ChatModel, LlmMessage } from '../src/agent/llm/model.js';
import { OllamaChatModel } from '../src/agent/llm/ollama.js';
import { OpenAiChatModel } from '../src/agent/llm/openai.js';
import { SearxngSearch } from '../src/agent/llm/web-search.js';
import {
  FakeServer,
  hang,
  json,
  raw,
  refusingUrl,
  reply,
  results,
  trickle,
} from './support/fake-llm.js';

const MESSAGES: LlmMessage[] = [
  { role: 'system', content: 'Você é um assistente de reparos.' },
  { role: 'user', content: 'a torneira está pingando' },
];

/** Runs `call`, expects an UpstreamError of this kind, and returns it. */
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

/** The same failure cases for both chat wire formats. */
function commonFailures(
  start: () => FakeServer,
  make: (url: string, timeoutMs?: number) => ChatModel,
) {
  it('turns an HTTP 500 into an http failure, the server reason kept apart for logs', async () => {
    start().behave(json({ error: 'out of memory\nloading model' }, 500));
    const error = await failure(make(start().url).complete(MESSAGES), 'http');
    assert.equal(error.status, 500);
    assert.match(error.message, /: HTTP 500$/, 'nothing the server wrote in the message');
    assert.equal(error.upstreamReason, 'out of memory loading model');
  });

  it('turns an HTTP 404 without a JSON body into an http failure', async () => {
    start().behave(raw('<html>not found</html>', 404));
    const error = await failure(make(start().url).complete(MESSAGES), 'http');
    assert.match(error.message, /HTTP 404$/);
    assert.equal(error.upstreamReason, undefined);
  });

  it('refuses malformed JSON, its start kept for logs only', async () => {
    start().behave(raw('{"message": {"content": "Passo 1'));
    const error = await failure(make(start().url).complete(MESSAGES), 'malformed');
    assert.match(error.message, /malformed JSON$/);
    assert.match(error.upstreamReason ?? '', /Passo 1/);
  });

  it('hides keys and tokens a server echoes in its error', async () => {
    start().behave(
      json({ error: 'bad auth: Bearer abc.def-123, key sk-proj-XYZ987, password hunter2' }, 401),
    );
    const url = start().url.replace('http://', 'http://admin:hunter2@');
    const error = await failure(make(url).complete(MESSAGES), 'http');
    assert.equal(error.upstreamReason, 'bad auth: Bearer ***, key sk-***, password ***');
    assert.doesNotMatch(`${error.message} ${error.url}`, /hunter2|abc\.def|XYZ987/);
  });

  it('refuses JSON of another shape', async () => {
    start().behave(json({ hello: 'world' }));
    await failure(make(start().url).complete(MESSAGES), 'malformed');
  });

  it('refuses an empty reply, or one with only a reasoning block', async () => {
    for (const text of ['', '   \n ', '<think>hmm</think>\n']) {
      start().behave(reply(text));
      await failure(make(start().url).complete(MESSAGES), 'empty');
    }
  });

  it('gives up on a server that never answers, at the deadline', async () => {
    start().behave(hang);
    const started = performance.now();
    const error = await failure(make(start().url, 300).complete(MESSAGES), 'timeout');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 250, `not before the deadline (${elapsed} ms)`);
    assert.match(error.message, /no complete answer within 0\.3 s/);
  });

  it('gives up on a reply that streams forever, at the deadline', async () => {
    start().behave(trickle);
    const error = await failure(make(start().url, 300).complete(MESSAGES), 'timeout');
    assert.match(error.message, /no complete answer within 0\.3 s/);
  });

  it('reports a refused connection', async () => {
    const error = await failure(make(await refusingUrl()).complete(MESSAGES), 'connection');
    assert.match(error.message, /connection refused/);
    assert.doesNotMatch(error.message, /127\.0\.0\.1/, 'no address in the message');
    assert.match(error.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\//, 'the address is kept for logs');
  });

  it('strips a reasoning block and surrounding blanks from a reply', async () => {
    start().behave(reply('<think>o usuário quer...</think>\n\n  Troque o courinho.  \n'));
    assert.deepEqual(await make(start().url).complete(MESSAGES), {
      text: 'Troque o courinho.',
      truncated: false,
    });
  });

  it('never shows an unclosed reasoning block', async () => {
    start().behave(reply('Troque o courinho.\n<think>mas talvez seja o reparo, vou pensar'));
    assert.equal((await make(start().url).complete(MESSAGES)).text, 'Troque o courinho.');
    start().behave(reply('<think>o usuário quer saber como'));
    await failure(make(start().url).complete(MESSAGES), 'empty');
    start().behave(reply('raciocínio sem abertura</think>\nTroque o courinho.'));
    assert.equal((await make(start().url).complete(MESSAGES)).text, 'Troque o courinho.');
  });

  it('ends a call at a shorter deadline given for it', async () => {
    start().behave(hang);
    const call = make(start().url, 5000).complete(MESSAGES, { timeoutMs: 200 });
    const error = await failure(call, 'timeout');
    assert.match(error.message, /no complete answer within 0\.2 s/, 'the shorter deadline');
  });
}

describe('Ollama chat model', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('ollama');
  });
  beforeEach(() => {
    server.clear();
    server.behave(reply('Feche o registro e troque o courinho.'));
  });
  after(() => server.close());
  const make = (url: string, timeoutMs = 5000) =>
    new OllamaChatModel({ baseUrl: url, model: 'qwen2.5:3b', timeoutMs });

  it('posts the model, the messages and stream: false to /api/chat, and returns the reply', async () => {
    const { text } = await make(server.url).complete(MESSAGES);
    assert.equal(text, 'Feche o registro e troque o courinho.');
    assert.equal(server.requests.length, 1);
    const { method, url, headers, body } = server.last;
    assert.equal(method, 'POST');
    assert.equal(url, '/api/chat');
    assert.match(String(headers['content-type']), /application\/json/);
    assert.deepEqual(body, {
      model: 'qwen2.5:3b',
      messages: MESSAGES,
      stream: false,
      options: { temperature: 0.3, num_predict: 1024 },
    });
    await new OllamaChatModel({
      baseUrl: server.url,
      model: 'm',
      timeoutMs: 5000,
      maxTokens: 64,
    }).complete(MESSAGES);
    assert.equal(server.last.body?.options?.num_predict, 64);
  });

  it('keeps a reply cut at num_predict (done_reason: length), saying it was truncated', async () => {
    server.behave(
      json({ message: { content: 'Passo 1: feche o' }, done: true, done_reason: 'length' }),
    );
    assert.deepEqual(await make(server.url).complete(MESSAGES), {
      text: 'Passo 1: feche o',
      truncated: true,
    });
  });

  it('accepts a base address with a trailing slash', async () => {
    await make(`${server.url}/`).complete(MESSAGES);
    assert.equal(server.last.url, '/api/chat');
  });

  it('refuses an unfinished reply (done: false)', async () => {
    server.behave(json({ message: { role: 'assistant', content: 'Passo 1' }, done: false }));
    await failure(make(server.url).complete(MESSAGES), 'malformed');
  });

  commonFailures(() => server, make);
});

describe('OpenAI-compatible chat model', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('openai');
  });
  beforeEach(() => {
    server.clear();
    server.behave(reply('Feche o registro e troque o courinho.'));
  });
  after(() => server.close());
  const make = (url: string, timeoutMs = 5000, apiKey?: string) =>
    new OpenAiChatModel({ baseUrl: url, model: 'local-model', timeoutMs, apiKey });

  it('posts to {base}/chat/completions with the key as a bearer token', async () => {
    const { text } = await make(server.url, 5000, 'sk-test-123').complete(MESSAGES);
    assert.equal(text, 'Feche o registro e troque o courinho.');
    const { method, url, headers, body } = server.last;
    assert.equal(method, 'POST');
    assert.equal(url, '/v1/chat/completions');
    assert.equal(headers.authorization, 'Bearer sk-test-123');
    assert.deepEqual(body, {
      model: 'local-model',
      messages: MESSAGES,
      stream: false,
      temperature: 0.3,
      max_tokens: 1024,
    });
  });

  it('sends no authorization header without a key (vLLM, LM Studio, llama.cpp)', async () => {
    await make(server.url).complete(MESSAGES);
    assert.equal(server.last.headers.authorization, undefined);
  });

  it("keeps an OpenAI error body's message for logs, without the key it echoes", async () => {
    server.behave(
      json({ error: { message: 'Invalid API key: my-own-key-42 (check it)', type: 'auth' } }, 401),
    );
    const error = await failure(make(server.url, 5000, 'my-own-key-42').complete(MESSAGES), 'http');
    assert.equal(error.status, 401);
    assert.equal(error.message, 'openai: HTTP 401');
    assert.equal(error.upstreamReason, 'Invalid API key: *** (check it)');
  });

  it('keeps a reply cut at max_tokens (finish_reason: length), saying it was truncated', async () => {
    server.behave(
      json({ choices: [{ message: { content: 'Passo 1: feche o' }, finish_reason: 'length' }] }),
    );
    assert.deepEqual(await make(server.url).complete(MESSAGES), {
      text: 'Passo 1: feche o',
      truncated: true,
    });
  });

  it('treats a reply withheld by the content filter as empty', async () => {
    for (const content of ['', null]) {
      server.behave(json({ choices: [{ message: { content }, finish_reason: 'content_filter' }] }));
      const error = await failure(make(server.url).complete(MESSAGES), 'empty');
      assert.match(error.message, /content filter/);
    }
  });

  it('refuses a reply without choices, or with a null content', async () => {
    server.behave(json({ choices: [] }));
    await failure(make(server.url).complete(MESSAGES), 'malformed');
    server.behave(json({ choices: [{ message: { role: 'assistant', content: null } }] }));
    await failure(make(server.url).complete(MESSAGES), 'empty');
  });

  commonFailures(() => server, make);
});

describe('secrets in what a server wrote', () => {
  it('hides configured secrets and anything shaped like a token, and bounds the length', () => {
    assert.equal(
      redactSecrets('key=abcd1234 and Bearer\tZ.Y-X; BASIC dXNlcjpw, sk-ant-api03_Q', ['abcd1234']),
      'key=*** and Bearer ***; BASIC ***, sk-***',
    );
    assert.equal(redactSecrets('a key of "abc"', ['abc']), 'a key of "abc"', 'too short to hide');
    assert.equal(redactSecrets('x'.repeat(500)).length, 203);
  });
});

describe('JSON over HTTP', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('ollama');
  });
  after(() => server.close());

  it('refuses an answer larger than the limit', async () => {
    server.behave(reply('x'.repeat(5000)));
    const call = requestJson(`${server.url}/api/chat`, {
      service: 'ollama',
      body: {},
      timeoutMs: 5000,
      maxBytes: 1024,
    });
    await failure(call, 'too_large');
  });

  it('sends the credentials of an address as Basic authorization, and never shows them', async () => {
    server.behave(reply('ok'));
    const url = server.url.replace('http://', 'http://user:s%40cret@');
    await requestJson(`${url}/api/chat`, { service: 'ollama', body: {}, timeoutMs: 5000 });
    const expected = `Basic ${Buffer.from('user:s@cret').toString('base64')}`;
    assert.equal(server.last.headers.authorization, expected);
    const refused = (await refusingUrl()).replace('http://', 'http://user:secret@');
    const error = await failure(
      requestJson(refused, { service: 'ollama', timeoutMs: 5000 }),
      'connection',
    );
    assert.doesNotMatch(`${error.message} ${error.url}`, /secret/);
  });
});

describe('SearxNG web search', () => {
  let server: FakeServer;
  before(async () => {
    server = await FakeServer.start('searxng');
  });
  beforeEach(() => server.clear());
  after(() => server.close());

  it('asks the JSON API in Portuguese and keeps the top results', async () => {
    server.behave(
      results([
        {
          title: 'Como trocar o courinho',
          url: 'https://example.com/a',
          content: 'Passo\n a passo',
        },
        { title: 'Torneira', url: 'https://example.com/b', content: 'x'.repeat(2000) },
        { title: 'Sem conteúdo', url: 'https://example.com/c' },
        { title: 'Quarto', url: 'https://example.com/d', content: 'd' },
      ]),
    );
    const found = await new SearxngSearch({ baseUrl: server.url }).search(
      'a torneira\nestá pingando',
    );
    const { method, url } = server.last;
    assert.equal(method, 'GET');
    const query = new URL(url, 'http://x').searchParams;
    assert.equal(new URL(url, 'http://x').pathname, '/search');
    assert.equal(query.get('q'), 'a torneira está pingando');
    assert.equal(query.get('format'), 'json');
    assert.equal(query.get('language'), 'pt-BR');
    assert.deepEqual(
      found.map((r) => r.url),
      ['https://example.com/a', 'https://example.com/b', 'https://example.com/c'],
    );
    assert.equal(found[0]?.content, 'Passo a passo');
    assert.equal(found[1]?.content.length, 500);
    assert.equal(found[2]?.content, '');
  });

  it('leaves out results that are not web pages', async () => {
    server.behave(
      results([
        { title: 'js', url: 'javascript:alert(1)' },
        { title: 'ok', url: 'http://example.com/ok' },
      ]),
    );
    const found = await new SearxngSearch({ baseUrl: server.url }).search('torneira');
    assert.deepEqual(
      found.map((r) => r.url),
      ['http://example.com/ok'],
    );
  });

  it('explains a 403 (the JSON format is off in the instance settings)', async () => {
    server.behave(raw('Forbidden', 403));
    const error = await failure(new SearxngSearch({ baseUrl: server.url }).search('x'), 'http');
    assert.match(error.message, /enable the json format/);
  });

  it('refuses an answer without results', async () => {
    server.behave(json({ query: 'x' }));
    await failure(new SearxngSearch({ baseUrl: server.url }).search('x'), 'malformed');
  });
});
