/** The chat's state: a turn from the optimistic user message to the streamed reply, errors that
 * give the typed message back, sessions lost and reset, and the held session in storage. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chat, errors } from '../src/texts/web.js';
import type { ChatHistory, ChatReply } from '../web/src/chat/chat-api.js';
import {
  readHeldSession,
  SESSION_STORAGE_KEY,
  writeHeldSession,
} from '../web/src/chat/held-session.js';
import {
  asksForFeedback,
  type ChatAction,
  type ChatState,
  chatReducer,
  initialChatState,
  isBusy,
} from '../web/src/chat/message-store.js';
import { describeFailure } from '../web/src/shared/api-failure.js';

const run = (state: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, state);

function reply(overrides: Partial<ChatReply> = {}): ChatReply {
  return {
    response: 'Torneira pingando: Trocar o courinho\n\n1. Feche o registro.',
    session_id: 'web-abc',
    state: 'waiting_feedback',
    metadata: { current_attempt: 1, max_attempts: 3, sources: ['torneira-pingando'] },
    timestamp: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const texts = (state: ChatState) => state.messages.map((m) => `${m.role}:${m.text}`);

describe('chatReducer: a turn', () => {
  it('shows the user message at once, then the reply as it streams, then the final reply', () => {
    let state = run(initialChatState(null), { type: 'draft', text: 'a torneira pinga' });
    state = run(state, { type: 'turnStarted', text: 'a torneira pinga' });
    assert.equal(state.activity, 'sending');
    assert.equal(state.draft, '');
    assert.ok(isBusy(state));
    assert.deepEqual(texts(state), ['user:a torneira pinga']);

    state = run(state, { type: 'delta', text: 'Torneira ' }, { type: 'delta', text: 'pingando' });
    assert.equal(state.activity, 'streaming');
    assert.deepEqual(texts(state), ['user:a torneira pinga', 'assistant:Torneira pingando']);
    assert.equal(state.messages.at(-1)?.streaming, true);
    assert.equal(asksForFeedback(state), false, 'no Sim / Não while the reply is written');

    state = run(state, { type: 'turnSucceeded', reply: reply(), token: 'tok-1' });
    assert.equal(state.activity, 'idle');
    assert.equal(state.messages.length, 2);
    const answer = state.messages[1];
    assert.equal(answer?.text, reply().response, 'the final text replaces the streamed one');
    assert.equal(answer?.streaming, undefined);
    assert.deepEqual(answer?.sources, ['torneira-pingando']);
    assert.deepEqual(state.session, { id: 'web-abc', token: 'tok-1' });
    assert.deepEqual(state.attempt, { current: 1, max: 3 });
    assert.equal(state.agentState, 'waiting_feedback');
    assert.ok(asksForFeedback(state));
    assert.equal(state.announcement?.text, reply().response);
  });

  it('keeps the token it holds when later replies carry none', () => {
    let state = initialChatState({ id: 'web-abc', token: 'tok-1' });
    state = run(
      state,
      { type: 'turnStarted', text: 'não' },
      {
        type: 'turnSucceeded',
        reply: reply({ metadata: { current_attempt: 2, max_attempts: 3, sources: [] } }),
        token: undefined,
      },
    );
    assert.deepEqual(state.session, { id: 'web-abc', token: 'tok-1' });
    assert.deepEqual(state.attempt, { current: 2, max: 3 });
  });

  it('shows no attempt once the repair is resolved or sent to a professional', () => {
    for (const outcome of ['resolved', 'max_attempts'] as const) {
      const state = run(
        initialChatState(null),
        { type: 'turnStarted', text: 'x' },
        { type: 'turnSucceeded', reply: reply({ state: outcome }), token: undefined },
      );
      assert.equal(state.attempt, null);
      assert.equal(asksForFeedback(state), false);
      assert.equal(state.agentState, outcome);
    }
  });

  it('gives two identical replies two announcements', () => {
    let state = run(
      initialChatState(null),
      { type: 'turnStarted', text: 'talvez' },
      { type: 'turnSucceeded', reply: reply(), token: undefined },
    );
    const first = state.announcement?.key;
    state = run(
      state,
      { type: 'turnStarted', text: 'talvez' },
      { type: 'turnSucceeded', reply: reply(), token: undefined },
    );
    assert.notEqual(state.announcement?.key, first);
  });

  it('ignores a delta when no turn is in flight', () => {
    const state = initialChatState(null);
    assert.equal(run(state, { type: 'delta', text: 'late' }), state);
  });
});

describe('chatReducer: failures', () => {
  function failedTurn(failure: Parameters<typeof describeFailure>[0], streamed = true) {
    let state = run(initialChatState({ id: 'web-abc', token: 'tok-1' }), {
      type: 'historyLoaded',
      history: {
        session_id: 'web-abc',
        state: 'waiting_feedback',
        current_attempt: 1,
        max_attempts: 3,
        messages: [
          { role: 'user', content: 'a torneira pinga', at: '' },
          { role: 'assistant', content: 'Feche o registro.', at: '' },
        ],
        updated_at: '',
      },
    });
    state = run(state, { type: 'turnStarted', text: 'não funcionou' });
    if (streamed) state = run(state, { type: 'delta', text: 'Entendi. Vamos' });
    return run(state, { type: 'failed', error: describeFailure(failure), retry: 'send' });
  }

  it('a lost connection gives the typed message back and offers to retry', () => {
    const state = failedTurn({ kind: 'network', midStream: false }, false);
    assert.equal(state.draft, 'não funcionou');
    assert.deepEqual(texts(state), ['user:a torneira pinga', 'assistant:Feche o registro.']);
    assert.equal(state.error?.message, errors.network);
    assert.equal(state.error?.retry, 'send');
    assert.equal(state.error?.retryable, true);
    assert.equal(state.activity, 'idle');
    assert.deepEqual(state.session, { id: 'web-abc', token: 'tok-1' });
  });

  it('a reply cut mid-stream leaves no half reply behind', () => {
    const state = failedTurn({ kind: 'network', midStream: true });
    assert.deepEqual(texts(state), ['user:a torneira pinga', 'assistant:Feche o registro.']);
    assert.equal(state.draft, 'não funcionou');
    assert.equal(state.error?.message, errors.streamCut);
  });

  it('a reply cut mid-stream that the server saved anyway is read back, not sent twice', () => {
    const failed = failedTurn({ kind: 'network', midStream: true });
    const history = (messages: [string, string][]): ChatHistory => ({
      session_id: 'web-abc',
      state: 'waiting_feedback',
      current_attempt: 2,
      max_attempts: 3,
      messages: messages.map(([role, content]) => ({
        role: role as 'user' | 'assistant',
        content,
        at: '',
      })),
      updated_at: '',
    });
    const before: [string, string][] = [
      ['user', 'a torneira pinga'],
      ['assistant', 'Feche o registro.'],
    ];

    const saved = run(failed, {
      type: 'turnRecovered',
      sent: 'não funcionou',
      history: history([...before, ['user', 'não funcionou'], ['assistant', 'Tentativa 2']]),
    });
    assert.equal(saved.messages.length, 4);
    assert.equal(saved.messages.at(-1)?.text, 'Tentativa 2');
    assert.equal(saved.draft, '', 'nothing left to send');
    assert.equal(saved.error, null);
    assert.deepEqual(saved.attempt, { current: 2, max: 3 });

    const lost = run(failed, {
      type: 'turnRecovered',
      sent: 'não funcionou',
      history: history(before),
    });
    assert.equal(lost, failed, 'not saved: the text stays in the box with the error');
    assert.equal(lost.draft, 'não funcionou');
  });

  it("a 422 shows the server's detail and keeps the text to be edited", () => {
    const detail = 'A mensagem deve ter no máximo 4096 caracteres.';
    const state = failedTurn({ kind: 'http', status: 422, detail }, false);
    assert.equal(state.error?.message, detail);
    assert.equal(state.error?.retryable, false);
    assert.equal(state.draft, 'não funcionou');
  });

  it('a 429 carries the wait', () => {
    const state = failedTurn(
      { kind: 'http', status: 429, detail: undefined, retryAfterSeconds: 42 },
      false,
    );
    assert.equal(state.error?.retryAfterSeconds, 42);
    assert.equal(state.error?.message, errors.rateLimited(42));
  });

  it('a refused session (403) starts over with a note, keeping the typed text', () => {
    const state = failedTurn({ kind: 'http', status: 403, detail: 'token inválido' }, false);
    assert.equal(state.session, null);
    assert.deepEqual(state.messages, []);
    assert.equal(state.attempt, null);
    assert.equal(state.agentState, 'new_problem');
    assert.equal(state.notice, errors.sessionRefused);
    assert.equal(state.error, null);
    assert.equal(state.draft, 'não funcionou');
  });

  it('a history that is gone (404) starts over and keeps what was being typed', () => {
    let state = run(initialChatState({ id: 'web-old', token: 't' }), { type: 'draft', text: 'oi' });
    state = run(state, { type: 'historyRequested' });
    assert.ok(isBusy(state));
    state = run(state, {
      type: 'failed',
      error: describeFailure({ kind: 'http', status: 404, detail: 'Sessão não encontrada' }),
      retry: 'history',
    });
    assert.equal(state.session, null);
    assert.equal(state.notice, errors.sessionGone);
    assert.equal(state.draft, 'oi');
    assert.equal(state.activity, 'idle');
  });

  it('a history that cannot be read for lack of network keeps the session and offers to retry', () => {
    const state = run(
      initialChatState({ id: 'web-abc', token: 't' }),
      { type: 'historyRequested' },
      {
        type: 'failed',
        error: describeFailure({ kind: 'network', midStream: false }),
        retry: 'history',
      },
    );
    assert.deepEqual(state.session, { id: 'web-abc', token: 't' });
    assert.equal(state.error?.retry, 'history');
    assert.equal(state.draft, '');
  });
});

describe('chatReducer: history and reset', () => {
  const history: ChatHistory = {
    session_id: 'web-abc',
    state: 'waiting_feedback',
    current_attempt: 2,
    max_attempts: 3,
    messages: [
      { role: 'user', content: 'pia entupida', at: '2026-01-01T00:00:00Z' },
      { role: 'assistant', content: 'Passo 1', at: '2026-01-01T00:00:01Z' },
    ],
    updated_at: '2026-01-01T00:00:01Z',
  };

  it('reads the conversation back with its attempt and the Sim / Não question', () => {
    const state = run(
      initialChatState({ id: 'web-abc', token: 't' }),
      { type: 'historyRequested' },
      { type: 'historyLoaded', history },
    );
    assert.deepEqual(texts(state), ['user:pia entupida', 'assistant:Passo 1']);
    assert.deepEqual(state.attempt, { current: 2, max: 3 });
    assert.ok(asksForFeedback(state));
    assert.equal(new Set(state.messages.map((m) => m.key)).size, 2);
  });

  it('a reset empties the conversation but keeps the session and the text being typed', () => {
    let state = run(initialChatState({ id: 'web-abc', token: 't' }), {
      type: 'historyLoaded',
      history,
    });
    state = run(state, { type: 'draft', text: 'novo' }, { type: 'reset', notice: chat.resetDone });
    assert.deepEqual(state.messages, []);
    assert.equal(state.agentState, 'new_problem');
    assert.equal(state.attempt, null);
    assert.deepEqual(state.session, { id: 'web-abc', token: 't' });
    assert.equal(state.draft, 'novo');
    assert.equal(state.notice, chat.resetDone);
  });
});

describe('held session', () => {
  function memoryStorage() {
    const values = new Map<string, string>();
    return {
      values,
      getItem: (key: string) => values.get(key) ?? null,
      setItem: (key: string, value: string) => void values.set(key, value),
      removeItem: (key: string) => void values.delete(key),
    };
  }

  it('is written, read back and forgotten', () => {
    const storage = memoryStorage();
    writeHeldSession(storage, { id: 'web-abc', token: 'tok' });
    assert.deepEqual(readHeldSession(storage), { id: 'web-abc', token: 'tok' });
    writeHeldSession(storage, null);
    assert.equal(readHeldSession(storage), null);
    assert.equal(storage.values.size, 0);
  });

  it('ignores a value that is not a session the server would accept', () => {
    const storage = memoryStorage();
    for (const raw of [
      'not json',
      '{"id":"../../x"}',
      '{"id":""}',
      '{"token":"t"}',
      `{"id":"${'a'.repeat(129)}"}`,
    ]) {
      storage.values.set(SESSION_STORAGE_KEY, raw);
      assert.equal(readHeldSession(storage), null, raw);
    }
    storage.values.set(SESSION_STORAGE_KEY, '{"id":"web-1","token":7}');
    assert.deepEqual(readHeldSession(storage), { id: 'web-1', token: null });
  });

  it('survives a storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('blocked');
      },
      setItem: () => {
        throw new Error('full');
      },
      removeItem: () => {
        throw new Error('blocked');
      },
    };
    assert.equal(readHeldSession(broken), null);
    writeHeldSession(broken, { id: 'web-1', token: null });
  });
});
