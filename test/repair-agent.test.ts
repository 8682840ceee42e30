import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { RepairAgent } from '../src/agent/repair-agent.js';
import type { Responder, SolutionRequest } from '../src/agent/types.js';
import { FEEDBACK_QUESTION } from '../src/texts/agent.js';
import { testResponder } from './support/fixtures.js';

describe('RepairAgent', () => {
  let agent: RepairAgent;
  beforeEach(async () => {
    agent = new RepairAgent({ responder: await testResponder() });
  });

  it('starts as a new problem', () => {
    assert.equal(agent.state, 'new_problem');
    assert.equal(agent.currentAttempt, 0);
    assert.equal(agent.maxAttempts, 3);
    assert.deepEqual(agent.conversationHistory, []);
  });

  it('answers a problem with a solution and the feedback question (attempt 1)', async () => {
    const reply = await agent.chat('a torneira está pingando');
    assert.ok(reply.endsWith(FEEDBACK_QUESTION));
    assert.match(reply, /Torneira pingando/);
    assert.equal(agent.state, 'waiting_feedback');
    assert.equal(agent.currentAttempt, 1);
    assert.deepEqual(
      agent.conversationHistory.map((m) => m.role),
      ['user', 'assistant'],
    );
    assert.equal(agent.conversationHistory[0]?.content, 'a torneira está pingando');
  });

  it('is resolved on attempt 1', async () => {
    await agent.chat('a torneira está pingando');
    const reply = await agent.chat('sim');
    assert.equal(agent.state, 'resolved');
    assert.equal(agent.currentAttempt, 1);
    assert.match(reply, /resolvido/);
  });

  it('is resolved on attempt 2, with a different approach in between', async () => {
    const first = await agent.chat('a pia está entupida');
    const second = await agent.chat('não funcionou');
    assert.equal(agent.state, 'waiting_feedback');
    assert.equal(agent.currentAttempt, 2);
    assert.match(second, /tentativa 2 de 3/);
    assert.notEqual(second, first);
    await agent.chat('deu certo');
    assert.equal(agent.state, 'resolved');
    assert.equal(agent.currentAttempt, 2);
  });

  it('recommends a professional after 3 failed attempts', async () => {
    await agent.chat('o disjuntor fica desarmando');
    await agent.chat('não');
    const third = await agent.chat('não');
    assert.match(third, /tentativa 3 de 3/);
    assert.equal(agent.currentAttempt, 3);
    const last = await agent.chat('ainda não');
    assert.equal(agent.state, 'max_attempts');
    assert.equal(agent.currentAttempt, 3);
    assert.match(last, /profissional qualificado/);
    assert.equal(agent.conversationHistory.length, 8);
  });

  it('asks again on ambiguous feedback without consuming an attempt', async () => {
    await agent.chat('a porta está rangendo');
    const reply = await agent.chat('talvez');
    assert.equal(agent.state, 'waiting_feedback');
    assert.equal(agent.currentAttempt, 1);
    assert.match(reply, /não entendi/);
    assert.ok(reply.endsWith(FEEDBACK_QUESTION));
  });

  it('honours another limit of attempts', async () => {
    const short = new RepairAgent({ responder: await testResponder(), maxAttempts: 1 });
    await short.chat('a porta está rangendo');
    await short.chat('não');
    assert.equal(short.state, 'max_attempts');
  });

  it('starts a new problem after the last one ended', async () => {
    await agent.chat('a torneira está pingando');
    await agent.chat('sim');
    const reply = await agent.chat('agora a geladeira não gela');
    assert.equal(agent.state, 'waiting_feedback');
    assert.equal(agent.currentAttempt, 1);
    assert.match(reply, /Geladeira/);
  });

  it('asks for details on an unknown problem and combines them with the first description', async () => {
    const reply = await agent.chat('está com um barulho estranho');
    assert.equal(agent.state, 'new_problem');
    assert.equal(agent.currentAttempt, 0);
    assert.match(reply, /mais detalhes/);
    await agent.chat('é a porta do quarto');
    assert.equal(agent.state, 'waiting_feedback');
    assert.equal(agent.snapshot().problem, 'está com um barulho estranho\né a porta do quarto');
  });

  it('resets to a new problem and clears the history', async () => {
    await agent.chat('a torneira está pingando');
    await agent.chat('não');
    agent.reset();
    assert.equal(agent.state, 'new_problem');
    assert.equal(agent.currentAttempt, 0);
    assert.deepEqual(agent.conversationHistory, []);
    assert.equal(agent.snapshot().problem, null);
  });

  it('is left untouched when the responder fails', async () => {
    let fail = false;
    const inner = await testResponder();
    const flaky: Responder = {
      name: 'flaky',
      solve: (request: SolutionRequest) =>
        fail ? Promise.reject(new Error('model down')) : inner.solve(request),
    };
    const a = new RepairAgent({ responder: flaky });
    await a.chat('a torneira está pingando');
    const before = a.snapshot();
    fail = true;
    await assert.rejects(a.chat('não'), /model down/);
    assert.deepEqual(a.snapshot(), before);
  });

  it("gives a later attempt's request for details as it is, without consuming the attempt", async () => {
    const attempts: number[] = [];
    const scripted: Responder = {
      name: 'scripted',
      solve: async (request: SolutionRequest) => {
        attempts.push(request.attempt);
        return request.attempt === 1 || attempts.length > 2
          ? { text: `Abordagem ${request.attempt}.`, needsDetails: false, sources: [] }
          : { text: 'Pode me contar mais detalhes?', needsDetails: true, sources: [] };
      },
    };
    const a = new RepairAgent({ responder: scripted });
    await a.chat('meu notebook não liga');
    const turn = await a.respond('não');
    assert.equal(turn.reply, 'Pode me contar mais detalhes?', 'no attempt number, no question');
    assert.equal(turn.solved, true);
    assert.equal(a.state, 'waiting_feedback');
    assert.equal(a.currentAttempt, 1);
    const next = await a.chat('não, a tela continua preta');
    assert.match(next, /tentativa 2 de 3/);
    assert.equal(a.currentAttempt, 2);
    assert.deepEqual(attempts, [1, 2, 2]);
    assert.equal((await a.respond('talvez')).solved, false, 'a fixed reply');
  });

  it('round-trips through a snapshot', async () => {
    await agent.chat('a torneira está pingando');
    await agent.chat('não');
    const restored = RepairAgent.restore(agent.snapshot(), { responder: await testResponder() });
    assert.deepEqual(restored.snapshot(), agent.snapshot());
    await restored.chat('sim');
    assert.equal(restored.state, 'resolved');
    assert.equal(agent.state, 'waiting_feedback', 'the original is independent');
  });
});
