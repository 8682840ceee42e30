import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadKnowledge } from '../src/agent/knowledge.js';
import { KnowledgeIndex } from '../src/agent/knowledge-index.js';
import { UpstreamError } from '../src/agent/llm/errors.js';
import { LlmResponder, type LlmResponderOptions } from '../src/agent/llm/llm-responder.js';
import { OllamaChatModel } from '../src/agent/llm/ollama.js';
import { OpenAiChatModel } from '../src/agent/llm/openai.js';
import { SearxngSearch } from '../src/agent/llm/web-search.js';
import { OfflineResponder } from '../src/agent/offline-responder.js';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { FEEDBACK_QUESTION } from '../src/texts/agent.js';
import {
  FakeServer,
  hang,
  json,
  type RecordedRequest,
  reply,
  results,
} from './support/fake-llm.js';
import { captureLogs } from './support/fixtures.js';

const systemOf = (request: RecordedRequest) => request.body?.messages?.[0]?.content ?? '';
const messagesOf = (request: RecordedRequest) => request.body?.messages ?? [];
/** The user's message of the turn: the reference data, then what the user said. */
const userOf = (request: RecordedRequest) => request.body?.messages?.at(-1)?.content ?? '';
const saidIn = (request: RecordedRequest) => userOf(request).split('Mensagem do usuário:\n')[1];

const WEB_PAGES = [
  {
    title: 'Notebook não liga: 7 causas',
    url: 'https://example.com/notebook',
    content: 'Teste a fonte.',
  },
  {
    title: 'Bateria do notebook',
    url: 'https://example.com/bateria',
    content: 'Retire a bateria.',
  },
];

describe('language-model responder', () => {
  let ollama: FakeServer;
  let searxng: FakeServer;
  let knowledge: KnowledgeIndex;
  before(async () => {
    [ollama, searxng] = await Promise.all([
      FakeServer.start('ollama'),
      FakeServer.start('searxng'),
    ]);
    knowledge = new KnowledgeIndex(await loadKnowledge());
  });
  beforeEach(() => {
    ollama.clear();
    searxng.clear();
    ollama.behave(reply('Feche o registro e siga os passos.'));
    searxng.behave(results(WEB_PAGES));
  });
  after(() => Promise.all([ollama.close(), searxng.close()]));

  const responder = (options: Partial<LlmResponderOptions> = {}) =>
    new LlmResponder({
      // Time to spare: a model that answers must not time out on a loaded machine.
      model: new OllamaChatModel({ baseUrl: ollama.url, model: 'qwen2.5:3b', timeoutMs: 30000 }),
      knowledge,
      webSearch: new SearxngSearch({ baseUrl: searxng.url }),
      ...options,
    });
  const agentWith = (options: Partial<LlmResponderOptions> = {}, useRag = true) =>
    new RepairAgent({ responder: responder(options), useRag });

  describe('prompts', () => {
    it('tells the model where the conversation is: first try, next attempt, last attempt', async () => {
      const agent = agentWith();
      await agent.chat('a torneira está pingando');
      const first = systemOf(ollama.last);
      assert.match(first, /^Você é um assistente especializado em reparos domésticos/);
      assert.match(first, /passo a passo/);
      assert.match(first, /segurança/);
      assert.doesNotMatch(first, /a torneira está pingando/, 'the problem is not in the system');
      assert.match(
        userOf(ollama.last),
        /Problema relatado pelo usuário:\na torneira está pingando/,
      );
      assert.match(first, /primeira tentativa \(tentativa 1 de 3\)/);
      assert.match(first, /NUNCA sugira chamar um profissional/);
      assert.ok(first.includes(FEEDBACK_QUESTION));
      assert.equal(messagesOf(ollama.last).at(-1)?.role, 'user');
      assert.equal(saidIn(ollama.last), 'a torneira está pingando');

      await agent.chat('não funcionou');
      const second = systemOf(ollama.last);
      assert.match(second, /não funcionou\. Esta é a tentativa 2 de 3/);
      assert.match(second, /abordagem NOVA e diferente/);
      assert.doesNotMatch(second, /NUNCA sugira/);
      assert.doesNotMatch(second, /Agradeça/);
      assert.ok(second.includes(FEEDBACK_QUESTION));
      assert.equal(saidIn(ollama.last), 'não funcionou');

      await agent.chat('não');
      const third = systemOf(ollama.last);
      assert.match(third, /última tentativa \(tentativa 3 de 3\)/);
      assert.match(third, /Agradeça o esforço/);
      assert.match(third, /recomende chamar um profissional qualificado/);
      assert.ok(third.includes(FEEDBACK_QUESTION));
      assert.equal(ollama.requests.length, 3);
    });

    it('keeps the fixed replies (ambiguous, resolved, max attempts) away from the model', async () => {
      const agent = agentWith();
      await agent.chat('a porta está rangendo');
      await agent.chat('talvez');
      await agent.chat('sim');
      assert.equal(agent.state, 'resolved');
      const limited = new RepairAgent({ responder: responder(), maxAttempts: 1 });
      await limited.chat('a porta está rangendo');
      const last = await limited.chat('não');
      assert.equal(limited.state, 'max_attempts');
      assert.match(last, /profissional qualificado/);
      assert.equal(ollama.requests.length, 2, 'one request per solution, none for fixed replies');
      assert.match(systemOf(ollama.last), /primeira tentativa \(tentativa 1 de 1\)/);
    });

    it('shows the model the last messages only, while the session keeps them all', async () => {
      const agent = agentWith({ historyMessages: 3 });
      await agent.chat('a torneira está pingando');
      await agent.chat('talvez');
      await agent.chat('não sei');
      await agent.chat('não');
      const sent = messagesOf(ollama.last);
      assert.deepEqual(
        sent.map((m) => m.role),
        ['system', 'user', 'assistant', 'user'],
        'the leading assistant message of the last 3 is left out',
      );
      assert.equal(sent[1]?.content, 'não sei');
      assert.equal(saidIn(ollama.last), 'não');
      assert.equal(agent.conversationHistory.length, 8);
      assert.match(userOf(ollama.last), /a torneira está pingando/, 'the problem stays in view');

      const none = agentWith({ historyMessages: 0 });
      await none.chat('a pia está entupida');
      await none.chat('não');
      assert.deepEqual(
        messagesOf(ollama.last).map((m) => m.role),
        ['system', 'user'],
      );
    });

    it('sends twelve earlier messages by default', async () => {
      const agent = agentWith();
      await agent.chat('a torneira está pingando');
      for (let i = 0; i < 8; i++) await agent.chat('talvez');
      await agent.chat('não');
      assert.equal(messagesOf(ollama.last).length, 1 + 12 + 1);
    });

    it('does not repeat the attempt or the question the model already wrote', async () => {
      const agent = agentWith();
      ollama.behave(reply('Troque o courinho.'));
      const first = await agent.chat('a torneira está pingando');
      assert.equal(first, `Troque o courinho.\n\n${FEEDBACK_QUESTION}`);
      const written =
        "Tentativa 2 de 3: troque o reparo.\n\nEssa solução funcionou? Responda com 'sim' ou 'não'.";
      ollama.behave(reply(written));
      assert.equal(await agent.chat('não'), written);
      ollama.behave(reply('Refaça a vedação.'));
      const third = await agent.chat('não');
      assert.match(third, /^Entendi\. Vamos tentar outra abordagem \(tentativa 3 de 3\)\./);
      assert.ok(third.endsWith(FEEDBACK_QUESTION));
    });
  });

  describe('knowledge base and web search', () => {
    it('gives the model the passages of the repair, the approach for the attempt first, and names the sources', async () => {
      const agent = agentWith();
      const turn = await agent.respond('a torneira está pingando');
      const first = userOf(ollama.last);
      assert.doesNotMatch(systemOf(ollama.last), /courinho/, 'the passages are reference data');
      assert.match(first, /Informações da base de conhecimento/);
      assert.match(first, /Reparo: Torneira pingando\n\n\[1\] Tentativa 1: Trocar o courinho/);
      assert.match(first, /\[2\] Tentativa 2: /);
      assert.match(first, /\[3\] Tentativa 3: /);
      assert.doesNotMatch(first, /Profissional indicado/, 'never a professional on attempt 1');
      assert.doesNotMatch(first, /Informações da internet/);
      assert.deepEqual(turn.sources, ['torneira-pingando']);
      assert.equal(turn.webSearch, 'not_needed');
      assert.equal(turn.responder, 'ollama');
      assert.equal(turn.fallbackUsed, false);
      assert.equal(searxng.requests.length, 0, 'the web is not searched');

      await agent.chat('não');
      assert.match(userOf(ollama.last), /\[1\] Tentativa 2: /);
      assert.doesNotMatch(userOf(ollama.last), /Profissional indicado/);
      await agent.chat('não');
      assert.match(userOf(ollama.last), /Profissional indicado: encanador/, 'the last attempt');
    });

    it('takes as many passages as configured, with the safety warning of their repair', async () => {
      const agent = agentWith({ passages: 1 });
      await agent.chat('a tomada do quarto não tem energia');
      const prompt = userOf(ollama.last);
      assert.match(
        prompt,
        /Reparo: Tomada sem energia\nSegurança: .*disjuntor.*\n\n\[1\] Tentativa 1: /,
      );
      assert.doesNotMatch(prompt, /\[2\]/);
    });

    it('searches the web when the knowledge base has nothing relevant', async () => {
      const turn = await agentWith().respond('meu notebook não liga');
      const prompt = userOf(ollama.last);
      assert.doesNotMatch(prompt, /Informações da base/);
      assert.match(prompt, /Informações da internet/);
      assert.doesNotMatch(systemOf(ollama.last), /example\.com/);
      assert.match(
        prompt,
        /\[1\] Notebook não liga: 7 causas \(https:\/\/example\.com\/notebook\)\nTeste a fonte\./,
      );
      assert.equal(turn.webSearch, 'used');
      assert.deepEqual(turn.sources, []);
      assert.deepEqual(turn.webSources, [
        'https://example.com/notebook',
        'https://example.com/bateria',
      ]);
      const query = new URL(searxng.last.url, 'http://x').searchParams.get('q');
      assert.equal(query, 'meu notebook não liga');
    });

    it('leaves the knowledge base out with use_rag off, and searches the web instead', async () => {
      const turn = await agentWith({}, false).respond('a torneira está pingando');
      assert.doesNotMatch(userOf(ollama.last), /Informações da base/);
      assert.equal(turn.webSearch, 'used');
      assert.deepEqual(turn.sources, []);
    });

    it('reports web search honestly: disabled, unavailable, no results, failed', async () => {
      const off = new RepairAgent({ responder: responder(), useWebSearch: false });
      assert.equal((await off.respond('meu notebook não liga')).webSearch, 'disabled');
      assert.equal(searxng.requests.length, 0);

      const unconfigured = new RepairAgent({ responder: responder({ webSearch: undefined }) });
      const alone = await unconfigured.respond('meu notebook não liga');
      assert.equal(alone.webSearch, 'unavailable');
      assert.deepEqual(alone.webSources, []);
      assert.doesNotMatch(userOf(ollama.last), /Informações da internet/);

      searxng.behave(results([]));
      assert.equal((await agentWith().respond('meu notebook não liga')).webSearch, 'no_results');

      searxng.behave(json({ error: 'engines down' }, 500));
      const failed = await agentWith().respond('meu notebook não liga');
      assert.equal(failed.webSearch, 'unavailable');
      assert.equal(failed.reply.startsWith('Feche o registro'), true, 'the model still answers');
    });
  });

  describe('failures', () => {
    it('leaves the agent exactly as it was when the model fails', async () => {
      const agent = agentWith();
      await agent.chat('a torneira está pingando');
      const before = agent.snapshot();
      ollama.behave(json({ error: 'boom' }, 500));
      await assert.rejects(
        agent.chat('não'),
        (error: unknown) => error instanceof UpstreamError && error.failure === 'http',
      );
      assert.deepEqual(agent.snapshot(), before);
      const fresh = agentWith();
      await assert.rejects(fresh.chat('a pia está entupida'), UpstreamError);
      assert.equal(fresh.state, 'new_problem');
      assert.deepEqual(fresh.conversationHistory, []);
    });

    it('answers with the offline responder when the model fails, with a fallback', async () => {
      ollama.behave(json({ error: 'boom' }, 500));
      const agent = agentWith({ fallback: new OfflineResponder(knowledge) });
      const turn = await agent.respond('a torneira está pingando');
      assert.equal(turn.fallbackUsed, true);
      assert.equal(turn.responder, 'ollama');
      assert.match(turn.reply, /Torneira pingando: Trocar o courinho/);
      assert.deepEqual(turn.sources, ['torneira-pingando']);
      assert.equal(agent.currentAttempt, 1);
    });

    it('stops calling a failing model, fails fast, and tries again after the cooldown', async () => {
      let now = 0;
      const llm = responder({ breakerFailures: 2, breakerCooldownMs: 30000, now: () => now });
      const agent = new RepairAgent({ responder: llm });
      ollama.behave(json({ error: 'boom' }, 503));
      await assert.rejects(agent.chat('a pia está entupida'), UpstreamError);
      await assert.rejects(agent.chat('a pia está entupida'), UpstreamError);
      assert.equal(llm.breaker.state, 'open');
      await assert.rejects(
        agent.chat('a pia está entupida'),
        (error: unknown) => error instanceof UpstreamError && error.failure === 'circuit_open',
      );
      assert.equal(ollama.requests.length, 2, 'the open circuit sent nothing');
      now += 30000;
      ollama.behave(reply('Use um desentupidor.'));
      assert.match(await agent.chat('a pia está entupida'), /^Use um desentupidor\./);
      assert.equal(llm.breaker.state, 'closed');
      assert.equal(ollama.requests.length, 3);
    });

    it('keeps the web search that happened when the fallback answers', async () => {
      ollama.behave(json({ error: 'boom' }, 500));
      const agent = agentWith({ fallback: new OfflineResponder(knowledge) });
      const turn = await agent.respond('meu notebook não liga');
      assert.equal(turn.fallbackUsed, true);
      assert.equal(turn.webSearch, 'used', 'the search did happen');
      assert.deepEqual(turn.webSources, [
        'https://example.com/notebook',
        'https://example.com/bateria',
      ]);
      searxng.behave(results([]));
      assert.equal(
        (
          await agentWith({ fallback: new OfflineResponder(knowledge) }).respond(
            'meu notebook não liga',
          )
        ).webSearch,
        'no_results',
      );
    });

    it("gives the fallback's request for details on a later attempt without consuming it", async () => {
      const agent = agentWith({ fallback: new OfflineResponder(knowledge) });
      ollama.behave(reply('Teste a fonte do notebook.'));
      await agent.respond('meu notebook não liga');
      assert.equal(agent.currentAttempt, 1);
      ollama.behave(json({ error: 'boom' }, 500));
      const turn = await agent.respond('não');
      assert.equal(turn.fallbackUsed, true);
      assert.match(turn.reply, /Pode me contar mais detalhes\?/);
      assert.doesNotMatch(turn.reply, /tentativa \d de \d/i);
      assert.ok(!turn.reply.includes(FEEDBACK_QUESTION));
      assert.equal(agent.currentAttempt, 1, 'no attempt consumed');
      assert.equal(agent.state, 'waiting_feedback');
      ollama.behave(reply('Troque o carregador.'));
      const next = await agent.respond('não, continua sem ligar');
      assert.match(next.reply, /tentativa 2 de 3/);
      assert.equal(agent.currentAttempt, 2);
    });

    it('falls back while the circuit is open', async () => {
      const llm = responder({
        breakerFailures: 1,
        fallback: new OfflineResponder(knowledge),
      });
      ollama.behave(json({ error: 'boom' }, 500));
      const agent = new RepairAgent({ responder: llm });
      assert.equal((await agent.respond('a pia está entupida')).fallbackUsed, true);
      assert.equal(llm.breaker.state, 'open');
      const turn = await agent.respond('não');
      assert.equal(turn.fallbackUsed, true);
      assert.match(turn.reply, /tentativa 2 de 3/);
      assert.equal(ollama.requests.length, 1, 'fails fast, straight to the fallback');
    });

    it('does not search the web for a model whose circuit is open', async () => {
      let now = 0;
      const llm = responder({
        breakerFailures: 1,
        breakerCooldownMs: 30000,
        now: () => now,
        fallback: new OfflineResponder(knowledge),
      });
      ollama.behave(json({ error: 'boom' }, 500));
      // Nothing in the knowledge base: the web is searched while the model is called.
      const first = await new RepairAgent({ responder: llm }).respond('meu notebook não liga');
      assert.equal(first.webSearch, 'used');
      assert.equal(searxng.requests.length, 1);
      assert.equal(llm.breaker.state, 'open');
      const skipped = await new RepairAgent({ responder: llm }).respond('meu notebook não liga');
      assert.equal(skipped.fallbackUsed, true);
      assert.equal(skipped.webSearch, 'unavailable');
      assert.deepEqual(skipped.webSources, []);
      assert.equal(searxng.requests.length, 1, 'no search while the circuit is open');
      // Without a fallback, the fast failure comes without a search too.
      const failing = responder({ breakerFailures: 1, now: () => now });
      await assert.rejects(
        new RepairAgent({ responder: failing }).respond('meu notebook não liga'),
      );
      await assert.rejects(
        new RepairAgent({ responder: failing }).respond('meu notebook não liga'),
        (error: unknown) => error instanceof UpstreamError && error.failure === 'circuit_open',
      );
      assert.equal(searxng.requests.length, 2);
      // The trial call after the cooldown searches again.
      now += 30000;
      ollama.behave(reply('Teste a fonte.'));
      assert.equal(
        (await new RepairAgent({ responder: llm }).respond('meu notebook não liga')).webSearch,
        'used',
      );
      assert.equal(searxng.requests.length, 3);
    });
  });

  describe('replies and time', () => {
    it('keeps a reply cut at the token limit, with a warning in the logs', async () => {
      const logs = captureLogs('debug');
      ollama.behave(
        json({ message: { content: 'Feche o registro e' }, done: true, done_reason: 'length' }),
      );
      const turn = await agentWith({ logger: logs.logger }).respond('a torneira está pingando');
      assert.match(turn.reply, /^Feche o registro e\n\n/);
      const warning = logs.records().find((r) => r.event_type === 'llm_reply_truncated');
      assert.equal(warning?.level, 'WARNING');
      assert.equal(warning?.provider, 'ollama');
    });

    it('cuts a reply over 8000 characters at a paragraph, adding nothing', async () => {
      const paragraph = `${'Passo com cuidado. '.repeat(50).trim()}`;
      const long = Array.from({ length: 12 }, () => paragraph).join('\n\n');
      assert.ok(long.length > 8000);
      ollama.behave(reply(long));
      const turn = await agentWith().respond('a torneira está pingando');
      const solution = turn.reply.slice(0, turn.reply.lastIndexOf('\n\n'));
      assert.ok(solution.length <= 8000, `${solution.length}`);
      assert.ok(long.startsWith(solution), 'a prefix of the reply, nothing added');
      assert.ok(solution.endsWith('Passo com cuidado.'));
      assert.ok(turn.reply.endsWith(FEEDBACK_QUESTION));
    });

    it("shares the turn's time between the web search and the model", async () => {
      searxng.behave(hang);
      ollama.behave(hang);
      // Both never answer: the deadlines decide. Long enough that a stalled process cannot eat
      // the model's share before it is asked.
      const llm = responder({ timeoutMs: 2000 });
      const started = performance.now();
      let deadline = Number.NaN;
      await assert.rejects(
        new RepairAgent({ responder: llm }).respond('meu notebook não liga'),
        (error: unknown) => {
          assert.ok(error instanceof UpstreamError && error.failure === 'timeout');
          deadline = Number(/within ([\d.]+) s/.exec(error.message)?.[1]);
          return true;
        },
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 1950, `not before the turn's deadline (${elapsed} ms)`);
      // The search took its half (1 s) at least: the model got at most what was left.
      assert.ok(deadline > 0 && deadline <= 1, `the model's deadline: ${deadline} s`);
      assert.equal(ollama.requests.length, 1, 'the model was still asked, with what was left');
    });
  });

  it('lets the offline responder report web search honestly too: it never searches', async () => {
    const offline = (useWebSearch: boolean) =>
      new RepairAgent({ responder: new OfflineResponder(knowledge), useWebSearch });
    const known = await offline(true).respond('a torneira está pingando');
    assert.deepEqual(
      [known.responder, known.webSearch, known.fallbackUsed],
      ['offline', 'not_needed', false],
    );
    assert.equal((await offline(true).respond('meu notebook não liga')).webSearch, 'unavailable');
    assert.equal((await offline(false).respond('meu notebook não liga')).webSearch, 'disabled');
  });

  describe('over the OpenAI format', () => {
    let openai: FakeServer;
    before(async () => {
      openai = await FakeServer.start('openai');
    });
    after(() => openai?.close());

    it('speaks the OpenAI format the same way', async () => {
      openai.behave(reply('Troque o courinho.'));
      const llm = new LlmResponder({
        model: new OpenAiChatModel({ baseUrl: openai.url, model: 'local', timeoutMs: 30000 }),
        knowledge,
      });
      const turn = await new RepairAgent({ responder: llm }).respond('a torneira está pingando');
      assert.equal(turn.responder, 'openai');
      assert.equal(openai.last.url, '/v1/chat/completions');
      assert.match(systemOf(openai.last), /primeira tentativa/);
      assert.deepEqual(turn.sources, ['torneira-pingando']);
    });
  });
});
