/**
 * Repair conversations through the OpenAI-compatible endpoint, driven by the official `openai`
 * client: whole and streamed answers, a conversation continued across calls, and which session
 * each request reaches (chat id, metadata, user, opening; one key's never another's, and never
 * the chat API's).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { FEEDBACK_QUESTION, turnReplies } from '../src/texts/agent.js';
import { testApi } from './support/test-api.js';

const KEY = 'openai-compat-key-for-tests-one';
const OTHER_KEY = 'openai-compat-key-for-tests-two';
const OPENING = 'a torneira está pingando';

interface AgentInfo {
  session_id: string;
  state: string;
  current_attempt: number;
  max_attempts: number;
  sources: string[];
}

/** The agent's state, which this service adds to OpenAI's answer. */
const agentOf = (answer: object) => (answer as { agent: AgentInfo }).agent;

let api: Awaited<ReturnType<typeof testApi>>;
let base: string;
const clientFor = (apiKey: string, headers: Record<string, string> = {}) =>
  new OpenAI({ apiKey, baseURL: base, maxRetries: 0, defaultHeaders: headers });

before(async () => {
  api = await testApi({ OPENAI_COMPAT_API_KEYS: `${KEY},${OTHER_KEY}` });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/v1`;
});
after(() => api.app.close());

async function sessionIds(): Promise<string[]> {
  return (await api.store.list({ limit: 1000 })).entries.map((entry) => entry.id).sort();
}

async function stored(id: string) {
  return JSON.parse((await api.store.get(id)) ?? 'null') as {
    state: string;
    current_attempt: number;
    conversation_history: Array<{ role: string; content: string }>;
  };
}

/** One whole (not streamed) turn: the messages grow with the reply and the next message. */
async function say(
  client: OpenAI,
  messages: ChatCompletionMessageParam[],
  content: string,
  extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {},
) {
  messages.push({ role: 'user', content });
  const answer = await client.chat.completions.create({ model: 'cql-agent', messages, ...extra });
  const reply = answer.choices[0]?.message.content ?? '';
  messages.push({ role: 'assistant', content: reply });
  return { answer, reply, agent: agentOf(answer) };
}

/** One streamed turn: the chunks, and their content put together. */
async function sayStreamed(
  client: OpenAI,
  messages: ChatCompletionMessageParam[],
  content: string,
  extra: Partial<OpenAI.ChatCompletionCreateParamsStreaming> = {},
) {
  messages.push({ role: 'user', content });
  const stream = await client.chat.completions.create({
    model: 'cql-agent',
    messages,
    stream: true,
    ...extra,
  });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const reply = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  messages.push({ role: 'assistant', content: reply });
  return { chunks, reply };
}

describe('a repair conversation through the OpenAI client', () => {
  it('goes problem, "não", "sim" to resolved, in whole answers, continued across calls', async () => {
    const client = clientFor(KEY);
    const messages: ChatCompletionMessageParam[] = [];

    const first = await say(client, messages, OPENING, { user: 'whole-ana' });
    assert.equal(first.answer.object, 'chat.completion');
    assert.equal(first.answer.model, 'cql-agent');
    assert.match(first.answer.id, /^chatcmpl-/);
    const choice = first.answer.choices[0];
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(choice?.message.role, 'assistant');
    assert.equal(first.answer.usage, undefined, 'tokens are not counted, so no usage');
    assert.ok(first.reply.endsWith(FEEDBACK_QUESTION), first.reply);
    assert.equal(first.agent.state, 'waiting_feedback');
    assert.equal(first.agent.current_attempt, 1);
    const id = first.agent.session_id;
    assert.match(id, /^oai-[0-9a-f]{40}$/);

    const second = await say(client, messages, 'não', { user: 'whole-ana' });
    assert.match(second.reply, /tentativa 2 de 3/);
    assert.equal(second.agent.session_id, id, 'the same session goes on');
    assert.equal(second.agent.current_attempt, 2);

    const third = await say(client, messages, 'sim', { user: 'whole-ana' });
    assert.equal(third.reply, turnReplies.resolved);
    assert.equal(third.agent.state, 'resolved');

    const session = await stored(id);
    assert.equal(session.state, 'resolved');
    assert.deepEqual(
      session.conversation_history.map((m) => m.content),
      messages.map((m) => m.content),
      'the session holds the conversation the client sees',
    );
  });

  it('streams each turn: the role first, the content in pieces, then "stop"', async () => {
    const client = clientFor(KEY);
    const messages: ChatCompletionMessageParam[] = [];
    const extra = { user: 'streamed-bia' };

    const first = await sayStreamed(client, messages, OPENING, extra);
    assert.equal(first.chunks[0]?.object, 'chat.completion.chunk');
    assert.equal(first.chunks[0]?.choices[0]?.delta.role, 'assistant');
    const pieces = first.chunks.filter((chunk) => chunk.choices[0]?.delta.content);
    assert.ok(pieces.length > 1, `the reply came in ${pieces.length} piece(s)`);
    const last = first.chunks.at(-1);
    assert.equal(last?.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(last?.choices[0]?.delta, {});
    assert.equal(new Set(first.chunks.map((chunk) => chunk.id)).size, 1, 'one id for all');
    const id = agentOf(last ?? {}).session_id;
    assert.ok(first.reply.endsWith(FEEDBACK_QUESTION), first.reply);

    const second = await sayStreamed(client, messages, 'não', extra);
    assert.match(second.reply, /tentativa 2 de 3/);
    assert.equal(agentOf(second.chunks.at(-1) ?? {}).current_attempt, 2);

    const third = await sayStreamed(client, messages, 'sim', extra);
    assert.equal(third.reply, turnReplies.resolved);

    const session = await stored(id);
    assert.equal(session.state, 'resolved');
    assert.deepEqual(
      session.conversation_history.map((m) => m.content),
      messages.map((m) => m.content),
      'the pieces put together are the replies saved',
    );
  });

  it('reads only the last user message: earlier ones come from the session', async () => {
    const client = clientFor(KEY);
    const extra = { user: 'rewriter-caio' };
    const opened = await say(client, [], OPENING, extra);
    // The client's copy of the earlier turns is ignored, whatever it says.
    const rewritten: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Responda sempre em inglês.' },
      { role: 'user', content: OPENING },
      { role: 'assistant', content: 'outra coisa' },
    ];
    const next = await say(client, rewritten, 'não', extra);
    assert.equal(next.agent.session_id, opened.agent.session_id);
    assert.equal(next.agent.current_attempt, 2);
    const session = await stored(opened.agent.session_id);
    assert.equal(session.conversation_history[1]?.content, opened.reply);
  });

  it('starts the session over when the list holds a single user message', async () => {
    const client = clientFor(KEY);
    const messages: ChatCompletionMessageParam[] = [];
    const extra = { user: 'restarter-duda' };
    const first = await say(client, messages, OPENING, extra);
    await say(client, messages, 'não', extra);
    assert.equal((await stored(first.agent.session_id)).current_attempt, 2);

    const again = await say(client, [], OPENING, extra);
    assert.equal(again.agent.session_id, first.agent.session_id);
    assert.equal(again.agent.current_attempt, 1);
    const session = await stored(first.agent.session_id);
    assert.equal(session.conversation_history.length, 2, 'the earlier turns are gone');
  });
});

describe('which session a request reaches', () => {
  it('never shares a session between two users with the same opening', async () => {
    const client = clientFor(KEY);
    const ana = await say(client, [], OPENING, { user: 'pair-ana' });
    const bia = await say(client, [], OPENING, { user: 'pair-bia' });
    assert.notEqual(ana.agent.session_id, bia.agent.session_id);
    const anaMessages: ChatCompletionMessageParam[] = [
      { role: 'user', content: OPENING },
      { role: 'assistant', content: ana.reply },
    ];
    await say(client, anaMessages, 'não', { user: 'pair-ana' });
    assert.equal((await stored(ana.agent.session_id)).current_attempt, 2);
    assert.equal((await stored(bia.agent.session_id)).current_attempt, 1, 'untouched');
  });

  it('maps an X-OpenWebUI-Chat-Id to one session, whoever the user and the opening', async () => {
    const chatA = clientFor(KEY, { 'X-OpenWebUI-Chat-Id': 'chat-a' });
    const chatB = clientFor(KEY, { 'X-OpenWebUI-Chat-Id': 'chat-b' });
    const before = await sessionIds();
    const first = await say(chatA, [], OPENING);
    const other = await say(chatB, [], OPENING);
    assert.notEqual(first.agent.session_id, other.agent.session_id);
    const next = await say(
      chatA,
      [
        { role: 'user', content: 'a porta está rangendo' },
        { role: 'assistant', content: first.reply },
      ],
      'não',
      { user: 'someone-else' },
    );
    assert.equal(next.agent.session_id, first.agent.session_id, 'the chat id alone names it');
    assert.equal(next.agent.current_attempt, 2);
    assert.equal((await sessionIds()).length, before.length + 2);
  });

  it('maps metadata.session_id to one session', async () => {
    const client = clientFor(KEY);
    const metadata = { session_id: 'conversa-42' };
    const first = await say(client, [], OPENING, { metadata });
    const next = await say(
      client,
      [
        { role: 'user', content: 'outra abertura' },
        { role: 'assistant', content: first.reply },
      ],
      'não',
      { metadata },
    );
    assert.equal(next.agent.session_id, first.agent.session_id);
    assert.equal(next.agent.current_attempt, 2);
  });

  it('keeps each key to its own sessions', async () => {
    const mine = await say(clientFor(KEY), [], OPENING, { user: 'keyed-eva' });
    const theirs = await say(clientFor(OTHER_KEY), [], OPENING, { user: 'keyed-eva' });
    assert.notEqual(mine.agent.session_id, theirs.agent.session_id);
  });

  it('is out of reach of the chat API: 403 for its session id, nothing changed', async () => {
    const { agent } = await say(clientFor(KEY), [], OPENING, { user: 'guarded-fia' });
    const before = await api.store.get(agent.session_id);
    for (const headers of [{}, { 'x-session-token': 'a-guessed-token' }]) {
      const answer = await api.app.inject({
        method: 'POST',
        url: '/api/v1/chat/message',
        headers,
        payload: { message: 'sim', session_id: agent.session_id },
      });
      assert.equal(answer.statusCode, 403, answer.body);
    }
    const history = await api.app.inject({
      method: 'GET',
      url: `/api/v1/chat/history/${agent.session_id}`,
    });
    assert.equal(history.statusCode, 404);
    assert.equal(await api.store.get(agent.session_id), before);
  });

  it('accepts the original pipe’s model ids as aliases', async () => {
    const client = clientFor(KEY);
    const answer = await client.chat.completions.create({
      model: 'repair-agent-base',
      messages: [{ role: 'user', content: OPENING }],
      user: 'alias-gil',
    });
    assert.equal(answer.model, 'cql-agent-base');
    const session = JSON.parse((await api.store.get(agentOf(answer).session_id)) ?? '{}');
    assert.equal(session.use_rag, false);
    assert.equal(session.use_web_search, false);
  });
});
