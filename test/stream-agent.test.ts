import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadKnowledge } from '../src/agent/knowledge.js';
import { KnowledgeIndex } from '../src/agent/knowledge-index.js';
import { UpstreamError } from '../src/agent/llm/errors.js';
import { LlmResponder, type LlmResponderOptions } from '../src/agent/llm/llm-responder.js';
import { OllamaChatModel } from '../src/agent/llm/ollama.js';
import { OpenAiChatModel } from '../src/agent/llm/openai.js';
import { OfflineResponder } from '../src/agent/offline-responder.js';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { HEAD_CHARS, ReplyMismatchError } from '../src/agent/reply-writer.js';
import type { Responder, SolutionRequest, TurnResult } from '../src/agent/types.js';
import { FEEDBACK_QUESTION, turnReplies } from '../src/texts/agent.js';
import { FakeServer, Gate, json, reply, streamed, type Wire } from './support/fake-llm.js';
import { until } from './support/until.js';

const TOKENS = ['Feche o registro', ' e troque', ' o courinho.', '\n\n', 'Abra o registro.'];
const SOLUTION = 'Feche o registro e troque o courinho.\n\nAbra o registro.';

/** A streamed turn: the events of the server and of the listener, in one ordered list. */
async function streamedTurn(
  agent: RepairAgent,
  message: string,
  events: string[] = [],
): Promise<{ turn: TurnResult; deltas: string[] }> {
  const deltas: string[] = [];
  const turn = await agent.respond(message, {
    onDelta: (text) => {
      deltas.push(text);
      events.push(`delta:${text}`);
    },
  });
  return { turn, deltas };
}

/** Runs a streamed turn that must fail; returns the error and what was passed on. */
async function failedTurn(agent: RepairAgent, message: string, events: string[] = []) {
  const deltas: string[] = [];
  try {
    await agent.respond(message, {
      onDelta: (text) => {
        deltas.push(text);
        events.push(`delta:${text}`);
      },
    });
  } catch (error) {
    return { error, deltas };
  }
  assert.fail('the turn was expected to fail');
}

describe('streamed turns', () => {
  let knowledge: KnowledgeIndex;
  let offline: OfflineResponder;
  before(async () => {
    knowledge = new KnowledgeIndex(await loadKnowledge());
    offline = new OfflineResponder(knowledge);
  });

  for (const wire of ['ollama', 'openai'] as const satisfies readonly Wire[]) {
    describe(`with ${wire}`, () => {
      let server: FakeServer;
      before(async () => {
        server = await FakeServer.start(wire);
      });
      beforeEach(() => {
        server.clear();
        server.behave(streamed({ tokens: TOKENS }));
      });
      after(() => server.close());
      const responder = (options: Partial<LlmResponderOptions> = {}) =>
        new LlmResponder({
          model:
            wire === 'ollama'
              ? new OllamaChatModel({ baseUrl: server.url, model: 'm', timeoutMs: 30000 })
              : new OpenAiChatModel({ baseUrl: server.url, model: 'm', timeoutMs: 30000 }),
          knowledge,
          ...options,
        });
      const agentWith = (options: Partial<LlmResponderOptions> = {}) =>
        new RepairAgent({ responder: responder(options) });

      it('passes the reply on before the model finished, adding up to the reply', async () => {
        const events: string[] = [];
        const gate = new Gate();
        server.behave(streamed({ tokens: TOKENS, holdAt: 2, gate, events }));
        const agent = agentWith();
        const deltas: string[] = [];
        const turn = agent.respond('a torneira está pingando', {
          onDelta: (text) => {
            deltas.push(text);
            events.push('delta');
          },
        });
        await until(() => deltas.length > 0, 'the first piece');
        assert.ok(!events.includes('end'), 'the model has not finished');
        assert.equal(agent.state, 'new_problem', 'the agent changes only at the end');
        gate.open();
        const result = await turn;
        assert.ok(events.indexOf('delta') < events.indexOf('end'));
        assert.equal(result.reply, `${SOLUTION}\n\n${FEEDBACK_QUESTION}`);
        assert.equal(deltas.join(''), result.reply);
        assert.equal(deltas.at(-1), `\n\n${FEEDBACK_QUESTION}`, 'the question, as a piece');
        assert.equal(agent.conversationHistory.at(-1)?.content, result.reply);
        assert.equal(agent.state, 'waiting_feedback');
        assert.deepEqual(result.sources, ['torneira-pingando']);
        assert.equal(result.relevanceScore, 1);
        assert.equal(result.responder, wire);
      });

      it('gives the same reply streamed or whole', async () => {
        server.behave(reply(SOLUTION));
        const whole = await agentWith().respond('a torneira está pingando');
        const { turn } = await streamedTurn(agentWith(), 'a torneira está pingando');
        assert.equal(turn.reply, whole.reply);
        assert.deepEqual({ ...turn, reply: '' }, { ...whole, reply: '' }, 'the same metadata');
        assert.equal(server.requests[0]?.body?.stream, false);
        assert.equal(server.requests[1]?.body?.stream, true);
      });

      it('puts the attempt line first, unless the model names the attempt at once', async () => {
        const agent = agentWith();
        await streamedTurn(agent, 'a torneira está pingando');
        const { turn, deltas } = await streamedTurn(agent, 'não funcionou');
        const line = turnReplies.nextAttempt(2, 3);
        assert.equal(turn.reply, `${line}\n\n${SOLUTION}\n\n${FEEDBACK_QUESTION}`);
        assert.ok(deltas[0]?.startsWith(line), 'the line comes first');
        assert.equal(deltas.join(''), turn.reply);

        server.behave(
          streamed({
            tokens: ['Tentativa 3 de 3:', ' troque o reparo.', ` ${FEEDBACK_QUESTION}`],
          }),
        );
        const named = await streamedTurn(agent, 'não');
        assert.equal(named.turn.reply, `Tentativa 3 de 3: troque o reparo. ${FEEDBACK_QUESTION}`);
        assert.equal(named.deltas.join(''), named.turn.reply);
        assert.equal(agent.currentAttempt, 3);
      });

      it('holds only the beginning of a later attempt while it looks for the attempt', async () => {
        const agent = agentWith();
        await streamedTurn(agent, 'a torneira está pingando');
        const events: string[] = [];
        const gate = new Gate();
        const long = 'Passo inicial com calma. '.repeat(12);
        assert.ok(long.length > HEAD_CHARS);
        server.behave(streamed({ tokens: [long, 'Fim.'], holdAt: 1, gate, events }));
        const deltas: string[] = [];
        const turn = agent.respond('não', { onDelta: (text) => deltas.push(text) });
        await until(() => deltas.length > 0, 'the beginning, once long enough');
        assert.ok(!events.includes('end'));
        gate.open();
        const result = await turn;
        assert.equal(deltas.join(''), result.reply);
      });

      it('leaves the agent as it was when the model fails after the first piece, without a fallback', async () => {
        const agent = agentWith({ fallback: offline });
        await streamedTurn(agent, 'a torneira está pingando');
        const before = agent.snapshot();
        const events: string[] = [];
        // Past the first paragraph: the beginning of the attempt was passed on.
        server.behave(streamed({ tokens: TOKENS, failAfter: 5, events }));
        const { error, deltas } = await failedTurn(agent, 'não', events);
        assert.ok(error instanceof UpstreamError, String(error));
        assert.equal(error.failure, 'connection');
        assert.equal(error.afterFirstDelta, true);
        assert.equal(error.sentChars, deltas.join('').length);
        assert.ok(deltas.join('').startsWith(turnReplies.nextAttempt(2, 3)));
        assert.ok(events.indexOf('failed') > events.findIndex((e) => e.startsWith('delta:')));
        assert.deepEqual(agent.snapshot(), before, 'nothing of the turn kept');
        assert.equal(server.requests.length, 2, 'not run again');
      });

      it("still falls back while a later attempt's beginning is held", async () => {
        const agent = agentWith({ fallback: offline });
        await streamedTurn(agent, 'a torneira está pingando');
        server.behave(streamed({ tokens: TOKENS, failAfter: 3 }));
        const { turn, deltas } = await streamedTurn(agent, 'não');
        assert.equal(turn.fallbackUsed, true);
        assert.match(
          turn.reply,
          /Torneira pingando: Trocar o reparo inteiro/,
          'the second approach',
        );
        assert.ok(turn.reply.startsWith(turnReplies.nextAttempt(2, 3)));
        assert.doesNotMatch(turn.reply, /Feche o registro e troque/, 'nothing of the model');
        assert.equal(deltas.join(''), turn.reply);
        assert.equal(agent.currentAttempt, 2);
      });

      it("ends with the server's error chunk the same way", async () => {
        server.behave(streamed({ tokens: TOKENS, failAfter: 2, failWith: 'error' }));
        const agent = agentWith({ fallback: offline });
        const { error, deltas } = await failedTurn(agent, 'a torneira está pingando');
        assert.ok(error instanceof UpstreamError);
        assert.equal(error.failure, 'http');
        assert.equal(error.sentChars, deltas.join('').length);
        assert.ok(error.sentChars > 0);
        assert.equal(agent.state, 'new_problem');
        assert.deepEqual(agent.conversationHistory, []);
      });

      it('falls back to the offline responder, streamed, when the model fails before the first piece', async () => {
        for (const failing of [
          json({ error: 'boom' }, 500),
          streamed({ tokens: TOKENS, failAfter: 0 }),
          streamed({ tokens: ['<think>hmm', '...'], failAfter: 2 }),
        ]) {
          server.behave(failing);
          const agent = agentWith({ fallback: offline });
          const { turn, deltas } = await streamedTurn(agent, 'a torneira está pingando');
          assert.equal(turn.fallbackUsed, true);
          assert.match(turn.reply, /Torneira pingando: Trocar o courinho/);
          assert.ok(deltas.length > 2, 'in several pieces');
          assert.equal(deltas.join(''), turn.reply);
          assert.equal(agent.currentAttempt, 1);
        }
      });

      it('falls back when the first piece does not come within LLM_TIMEOUT', async () => {
        server.behave(streamed({ tokens: TOKENS, holdAt: 0, gate: new Gate() }));
        const agent = agentWith({ fallback: offline, timeoutMs: 300 });
        const { turn, deltas } = await streamedTurn(agent, 'a torneira está pingando');
        assert.equal(turn.fallbackUsed, true);
        assert.equal(deltas.join(''), turn.reply);
        const without = agentWith({ timeoutMs: 300 });
        const { error, deltas: none } = await failedTurn(without, 'a torneira está pingando');
        assert.ok(error instanceof UpstreamError && error.failure === 'timeout');
        assert.equal(error.sentChars, 0);
        assert.deepEqual(none, []);
      });

      it('gives up on a model silent for LLM_TIMEOUT after the first piece', async () => {
        server.behave(streamed({ tokens: TOKENS, holdAt: 2, gate: new Gate() }));
        // The first pieces come at once and the rest never: long enough that they certainly
        // arrive before the same deadline runs out for them.
        const agent = agentWith({ fallback: offline, timeoutMs: 1000 });
        const { error, deltas } = await failedTurn(agent, 'a torneira está pingando');
        assert.ok(error instanceof UpstreamError && error.failure === 'timeout', String(error));
        assert.match(error.message, /stopped for 1 s/);
        assert.equal(error.sentChars, deltas.join('').length);
        assert.equal(deltas.join(''), 'Feche o registro e troque');
      });

      it('ends a streamed turn at its whole deadline', async () => {
        const tokens = Array.from({ length: 100000 }, () => 'passo ');
        server.behave(streamed({ tokens, pauseMs: 5 }));
        // A reply of 500 s: the deadline certainly ends it, after its first pieces.
        const agent = agentWith({ timeoutMs: 5000, streamTimeoutMs: 1500 });
        const { error } = await failedTurn(agent, 'a torneira está pingando');
        assert.ok(error instanceof UpstreamError && error.failure === 'timeout', String(error));
        assert.match(error.message, /not complete within/);
        assert.ok(error.afterFirstDelta);
      });

      it('counts failures of streams in the circuit breaker, before and after the first piece', async () => {
        const llm = responder({ breakerFailures: 2 });
        server.behave(
          streamed({ tokens: TOKENS, failAfter: 0 }),
          streamed({ tokens: TOKENS, failAfter: 2 }),
        );
        await failedTurn(new RepairAgent({ responder: llm }), 'a pia está entupida');
        assert.equal(llm.breaker.failures, 1);
        await failedTurn(new RepairAgent({ responder: llm }), 'a pia está entupida');
        assert.equal(llm.breaker.state, 'open');
        const { error, deltas } = await failedTurn(
          new RepairAgent({ responder: llm }),
          'a pia está entupida',
        );
        assert.ok(error instanceof UpstreamError && error.failure === 'circuit_open');
        assert.deepEqual(deltas, []);
        assert.equal(server.requests.length, 2, 'the open circuit sent nothing');
      });

      it('keeps a streamed reply within 8000 characters and stops reading the model', async () => {
        const paragraph = `${'Passo com cuidado. '.repeat(50).trim()}\n\n`;
        const events: string[] = [];
        server.behave(streamed({ tokens: Array.from({ length: 40 }, () => paragraph), events }));
        const { turn, deltas } = await streamedTurn(agentWith(), 'a torneira está pingando');
        const solution = turn.reply.slice(0, -`\n\n${FEEDBACK_QUESTION}`.length);
        assert.ok(solution.length <= 8000, String(solution.length));
        assert.ok(solution.endsWith('Passo com cuidado.'));
        assert.equal(deltas.join(''), turn.reply);
        await until(() => events.includes('client-closed'), 'the model connection closed');
        assert.ok(!events.includes('end'));
      });

      it('stops when its caller aborts, the agent unchanged and the breaker not counting', async () => {
        const events: string[] = [];
        server.behave(streamed({ tokens: TOKENS, holdAt: 2, gate: new Gate(), events }));
        const llm = responder({ breakerFailures: 1, fallback: offline });
        const agent = new RepairAgent({ responder: llm });
        const controller = new AbortController();
        const deltas: string[] = [];
        const turn = agent.respond('a torneira está pingando', {
          signal: controller.signal,
          onDelta: (text) => deltas.push(text),
        });
        await until(() => deltas.length > 0, 'the first piece');
        const reason = new Error('client left');
        controller.abort(reason);
        await assert.rejects(turn, (error) => error === reason);
        assert.equal(agent.state, 'new_problem');
        assert.deepEqual(agent.conversationHistory, []);
        assert.equal(llm.breaker.state, 'closed');
        assert.equal(llm.breaker.failures, 0);
        await until(() => events.includes('client-closed'), 'the model connection closed');
      });
    });
  }

  describe('offline', () => {
    it('streams its reply in several pieces, framed like a whole one', async () => {
      const agent = new RepairAgent({ responder: offline });
      const first = await streamedTurn(agent, 'a tomada do quarto não tem energia');
      assert.ok(first.deltas.length > 3, `${first.deltas.length} pieces`);
      assert.equal(first.deltas.join(''), first.turn.reply);
      assert.match(first.deltas[0] ?? '', /^Atenção: /, 'the safety warning first');
      const whole = await new RepairAgent({ responder: offline }).respond(
        'a tomada do quarto não tem energia',
      );
      assert.equal(first.turn.reply, whole.reply);

      const second = await streamedTurn(agent, 'não');
      assert.ok(second.deltas[0]?.startsWith(turnReplies.nextAttempt(2, 3)));
      assert.equal(second.deltas.join(''), second.turn.reply);
      assert.ok(second.turn.reply.endsWith(FEEDBACK_QUESTION));
    });

    it('streams the fixed replies as pieces too', async () => {
      const agent = new RepairAgent({ responder: offline, maxAttempts: 1 });
      const cases: Array<[string, string]> = [
        ['  ', turnReplies.emptyMessage],
        ['a porta está rangendo', ''],
        ['talvez', turnReplies.ambiguous],
        ['não', turnReplies.maxAttempts(1)],
      ];
      for (const [message, expected] of cases) {
        const { turn, deltas } = await streamedTurn(agent, message);
        if (expected !== '') assert.deepEqual(deltas, [expected], message);
        assert.equal(deltas.join(''), turn.reply, message);
      }
      await streamedTurn(agent, 'a porta está rangendo');
      assert.deepEqual((await streamedTurn(agent, 'sim')).deltas, [turnReplies.resolved]);
    });

    it('gives a request for details as it is, without a frame', async () => {
      const { turn, deltas } = await streamedTurn(
        new RepairAgent({ responder: offline }),
        'está com um barulho estranho',
      );
      assert.match(turn.reply, /mais detalhes/);
      assert.ok(deltas.length > 1);
      assert.equal(deltas.join(''), turn.reply);
      assert.ok(!turn.reply.includes(FEEDBACK_QUESTION));
    });
  });

  describe('responders that do not stream', () => {
    const whole = (text: string, needsDetails = false): Responder => ({
      name: 'whole',
      solve: async () => ({ text, needsDetails, sources: [] }),
    });

    it('passes their reply on in one piece at the end', async () => {
      const agent = new RepairAgent({ responder: whole('  Abordagem única.  ') });
      const { turn, deltas } = await streamedTurn(agent, 'algo quebrou');
      assert.deepEqual(deltas, [`Abordagem única.\n\n${FEEDBACK_QUESTION}`]);
      assert.equal(turn.reply, deltas[0]);
      const later = await streamedTurn(agent, 'não');
      assert.equal(later.deltas.join(''), later.turn.reply);
      assert.ok(later.turn.reply.startsWith(turnReplies.nextAttempt(2, 3)));
    });

    it('refuses pieces that do not add up to the reply, leaving the agent as it was', async () => {
      const liar: Responder = {
        name: 'liar',
        solve: async (_request: SolutionRequest, options) => {
          options?.onDelta?.('Uma coisa.', { needsDetails: false });
          return { text: 'Outra coisa.', needsDetails: false, sources: [] };
        },
      };
      const agent = new RepairAgent({ responder: liar });
      const { error } = await failedTurn(agent, 'algo quebrou');
      assert.ok(error instanceof ReplyMismatchError, String(error));
      assert.equal(error.code, 'ERR_REPLY_MISMATCH');
      assert.equal(agent.state, 'new_problem');
      assert.deepEqual(agent.conversationHistory, []);
    });

    it('trims the blanks around a streamed solution as around a whole one', async () => {
      const padded: Responder = {
        name: 'padded',
        solve: async (_request, options) => {
          for (const piece of ['\n  Passo', ' um.  ', '\n']) {
            options?.onDelta?.(piece, { needsDetails: false });
          }
          return { text: '\n  Passo um.  \n', needsDetails: false, sources: [] };
        },
      };
      const { turn, deltas } = await streamedTurn(
        new RepairAgent({ responder: padded }),
        'algo quebrou',
      );
      assert.equal(turn.reply, `Passo um.\n\n${FEEDBACK_QUESTION}`);
      assert.equal(deltas.join(''), turn.reply);
    });
  });

  describe('through the reply behaviour of the fake server', () => {
    let server: FakeServer;
    before(async () => {
      server = await FakeServer.start('ollama');
    });
    after(() => server?.close());

    it('streams the same through the reply behaviour of the fake server', async () => {
      server.behave(reply('Troque o courinho.'));
      const agent = new RepairAgent({
        responder: new LlmResponder({
          model: new OllamaChatModel({ baseUrl: server.url, model: 'm', timeoutMs: 30000 }),
          knowledge,
        }),
      });
      const { turn, deltas } = await streamedTurn(agent, 'a torneira está pingando');
      assert.equal(turn.reply, `Troque o courinho.\n\n${FEEDBACK_QUESTION}`);
      assert.ok(deltas.length >= 3);
    });
  });
});
