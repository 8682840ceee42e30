/**
 * The OpenAI-compatible endpoint's surface, through the official `openai` client and raw HTTP:
 * the model list, keys, refusals in OpenAI's error shape, the endpoint off without keys, the
 * rate limit, and a chat client's background tasks, which touch no session.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI, { type APIError } from 'openai';
import { openaiErrors, taskReplies } from '../src/texts/openai.js';
import { testApi } from './support/test-api.js';

const KEY = 'openai-compat-key-for-tests-one';
const OPENING = 'a torneira está pingando';

/** The API over a memory store, listening on a free loopback port. */
async function served(env: Record<string, string>) {
  const api = await testApi(env);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/v1`;
  return { ...api, base };
}

type Served = Awaited<ReturnType<typeof served>>;

const clientOf = (api: Served, apiKey = KEY) =>
  new OpenAI({ apiKey, baseURL: api.base, maxRetries: 0 });

/** The error a call fails with; fails the test when it succeeds. */
async function refusal(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail('expected the call to be refused');
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A raw POST /v1/chat/completions. */
function post(api: Served, body: string, headers: Record<string, string> = {}) {
  return fetch(`${api.base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('the OpenAI-compatible endpoint', () => {
  let api: Served;
  before(async () => {
    api = await served({ OPENAI_COMPAT_API_KEYS: KEY });
  });
  after(() => api.app.close());

  it('lists the agent as three models, in OpenAI’s list format', async () => {
    const page = await clientOf(api).models.list();
    assert.deepEqual(
      page.data.map((model) => model.id),
      ['cql-agent', 'cql-agent-rag', 'cql-agent-base'],
    );
    for (const model of page.data) {
      assert.equal(model.object, 'model');
      assert.equal(model.owned_by, 'cql-agent');
      assert.ok(Number.isInteger(model.created) && model.created > 0);
    }
    const raw = (await (
      await fetch(`${api.base}/models`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { object: string };
    assert.equal(raw.object, 'list');
  });

  it('retrieves a model by its id or by the original pipe’s alias', async () => {
    const client = clientOf(api);
    assert.equal((await client.models.retrieve('cql-agent-rag')).id, 'cql-agent-rag');
    assert.equal((await client.models.retrieve('repair-agent-rag-web')).id, 'cql-agent');
    const missing = await refusal(client.models.retrieve('gpt-4o'));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'model_not_found');
  });

  it('refuses a wrong key (AuthenticationError) and a missing one, with 401', async () => {
    const wrong = await refusal(clientOf(api, 'not-the-configured-key').models.list());
    assert.ok(wrong instanceof OpenAI.AuthenticationError);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.code, 'invalid_api_key');
    assert.equal((wrong.error as ErrorBody['error']).message, openaiErrors.apiKeyRequired);

    const missing = await fetch(`${api.base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cql-agent', messages: [{ role: 'user', content: OPENING }] }),
    });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    const body = (await missing.json()) as ErrorBody;
    assert.deepEqual(body, {
      error: {
        message: openaiErrors.apiKeyRequired,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    assert.equal(api.store.size, 0, 'nothing of the refused request reached a session');
  });

  it('answers an unknown model with 404 model_not_found, naming the models there are', async () => {
    const error = await refusal(
      clientOf(api).chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: OPENING }],
      }),
    );
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.param, 'model');
    assert.equal(
      (error.error as ErrorBody['error']).message,
      openaiErrors.modelNotFound('gpt-4o', ['cql-agent', 'cql-agent-rag', 'cql-agent-base']),
    );
  });

  it('refuses malformed bodies with 400, in OpenAI’s shape, naming what was wrong', async () => {
    const cases: Array<{ body: string; param: string | null; message: RegExp }> = [
      { body: '{"model": "cql-agent", "messages": [', param: null, message: /não é um JSON/ },
      { body: JSON.stringify({ model: 'cql-agent' }), param: 'messages', message: /messages/ },
      {
        body: JSON.stringify({ model: 'cql-agent', messages: [{ role: 'system', content: 'x' }] }),
        param: 'messages',
        message: /role "user"/,
      },
      {
        body: JSON.stringify({
          model: 'cql-agent',
          messages: [{ role: 'user', content: OPENING }],
          stream: 'yes',
        }),
        param: 'stream',
        message: /stream/,
      },
      {
        body: JSON.stringify({
          model: 'cql-agent',
          messages: [{ role: 'user', content: OPENING }],
          n: 2,
        }),
        param: 'n',
        message: /^O campo n só aceita 1/,
      },
      {
        body: JSON.stringify({
          model: 'cql-agent',
          messages: [{ role: 'user', content: 'x'.repeat(4097) }],
        }),
        param: 'messages.0.content',
        message: /no máximo 4096 caracteres/,
      },
      {
        body: JSON.stringify({
          model: 'cql-agent',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
        }),
        param: 'messages.0.content',
        message: /não tem texto/,
      },
      {
        body: JSON.stringify({ model: 'cql-agent', messages: [{ role: 'wizard', content: 'x' }] }),
        param: 'messages.0.role',
        message: /não é aceito/,
      },
    ];
    for (const { body, param, message } of cases) {
      const response = await post(api, body);
      assert.equal(response.status, 400, body);
      const { error } = (await response.json()) as ErrorBody;
      assert.equal(error.type, 'invalid_request_error', body);
      assert.equal(error.param, param, body);
      assert.match(error.message, message, body);
    }
    assert.equal(api.store.size, 0);
  });

  it('accepts the usual fields it does not use, and text given as content parts', async () => {
    const response = await post(
      api,
      JSON.stringify({
        model: 'cql-agent',
        messages: [
          { role: 'system', content: 'Você é útil.' },
          { role: 'user', content: [{ type: 'text', text: OPENING }] },
        ],
        temperature: 0.2,
        top_p: 1,
        max_tokens: 300,
        n: 1,
        stream: false,
        stream_options: null,
        presence_penalty: 0,
        tools: [],
        user: 'fields-ivo',
        metadata: { origem: 'teste' },
      }),
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as OpenAI.ChatCompletion;
    assert.match(body.choices[0]?.message.content ?? '', /O problema foi resolvido/);
  });

  it('answers unknown /v1 routes with 404 in OpenAI’s shape', async () => {
    const response = await fetch(`${api.base}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(response.status, 404);
    const { error } = (await response.json()) as ErrorBody;
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /POST \/v1\/embeddings/);
  });
});

describe("a chat client's background tasks", () => {
  let api: Served;
  before(async () => {
    api = await served({ OPENAI_COMPAT_API_KEYS: KEY });
  });
  after(() => api.app.close());

  const task = (instructions: string, output: string) =>
    `### Task:\n${instructions}\n### Output:\nJSON format: ${output}\n### Chat History:\n` +
    `<chat_history>\nUSER: ${OPENING} na cozinha desde ontem\nASSISTANT: Feche o registro.\n</chat_history>`;

  it('answers titles, tags, follow-ups and queries in the JSON they ask for, touching no session', async () => {
    const client = clientOf(api);
    const opened = await client.chat.completions.create({
      model: 'cql-agent',
      messages: [{ role: 'user', content: OPENING }],
      user: 'tasks-ana',
    });
    const before = await api.store.list();
    assert.equal(before.entries.length, 1);

    const answer = async (content: string, stream: boolean) => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: 'user', content: OPENING },
        { role: 'assistant', content: opened.choices[0]?.message.content ?? '' },
        { role: 'user', content },
      ];
      if (!stream) {
        const whole = await client.chat.completions.create({
          model: 'cql-agent',
          messages,
          user: 'tasks-ana',
        });
        assert.equal(whole.choices[0]?.finish_reason, 'stop');
        return JSON.parse(whole.choices[0]?.message.content ?? '') as unknown;
      }
      const chunks = await client.chat.completions.create({
        model: 'cql-agent',
        messages,
        user: 'tasks-ana',
        stream: true,
      });
      let text = '';
      for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? '';
      return JSON.parse(text) as unknown;
    };

    assert.deepEqual(
      await answer(task('Generate a concise, 3-5 word title.', '{ "title": "..." }'), false),
      { title: 'A torneira está pingando na cozinha' },
    );
    assert.deepEqual(await answer(task('Generate 1-3 broad tags.', '{ "tags": ["tag1"] }'), true), {
      tags: taskReplies.tags,
    });
    assert.deepEqual(
      await answer(task('Suggest 3-5 follow-up questions.', '{ "follow_ups": ["Q?"] }'), false),
      { follow_ups: [] },
    );
    assert.deepEqual(
      await answer(task('Generate search queries.', '{ "queries": ["query1"] }'), false),
      { queries: [] },
    );

    const after = await api.store.list();
    assert.deepEqual(after.entries, before.entries, 'the session is exactly as it was');
  });

  it('answers a task that opens a conversation without creating a session', async () => {
    const answer = await clientOf(api).chat.completions.create({
      model: 'cql-agent',
      messages: [{ role: 'user', content: task('Generate a title.', '{ "title": "..." }') }],
    });
    assert.ok(JSON.parse(answer.choices[0]?.message.content ?? '').title);
    assert.equal((answer as { agent?: unknown }).agent, undefined);
    assert.equal(api.store.size, 1, 'only the session of the first test');
  });
});

describe('the endpoint turned off or limited', () => {
  it('answers 404 for every /v1 route without OPENAI_COMPAT_API_KEYS', async () => {
    const api = await served({});
    try {
      const error = await refusal(clientOf(api).models.list());
      assert.ok(error instanceof OpenAI.NotFoundError);
      const response = await post(
        api,
        JSON.stringify({ model: 'cql-agent', messages: [{ role: 'user', content: OPENING }] }),
      );
      assert.equal(response.status, 404);
      assert.equal(api.store.size, 0);
    } finally {
      await api.app.close();
    }
  });

  it('applies the chat routes’ rate limit: 429 (RateLimitError) with Retry-After', async () => {
    const api = await served({ OPENAI_COMPAT_API_KEYS: KEY, RATE_LIMIT_PER_MINUTE: '1' });
    try {
      const client = clientOf(api);
      const request = {
        model: 'cql-agent',
        messages: [{ role: 'user' as const, content: OPENING }],
      };
      await client.chat.completions.create(request);
      const error = await refusal(client.chat.completions.create(request));
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.match(error.headers?.get('retry-after') ?? '', /^\d+$/);
      assert.match((error.error as ErrorBody['error']).message, /no máximo 1 por minuto/);
    } finally {
      await api.app.close();
    }
  });
});
