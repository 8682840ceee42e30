import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type KnowledgeDoc, loadKnowledge } from '../src/agent/knowledge.js';
import { KnowledgeIndex, stemsOf } from '../src/agent/knowledge-index.js';
import { LlmResponder, type LlmResponderOptions } from '../src/agent/llm/llm-responder.js';
import { OllamaChatModel } from '../src/agent/llm/ollama.js';
import { OfflineResponder } from '../src/agent/offline-responder.js';
import { relevanceScore } from '../src/agent/relevance.js';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { FakeServer, json, reply } from './support/fake-llm.js';

const twoDecimals = (score: number) => Math.round(score * 100) / 100 === score;

describe('relevance score', () => {
  let docs: KnowledgeDoc[];
  let knowledge: KnowledgeIndex;
  let offline: OfflineResponder;
  before(async () => {
    docs = await loadKnowledge();
    knowledge = new KnowledgeIndex(docs);
    offline = new OfflineResponder(knowledge);
  });

  it('stems words as the index does: accents, case and stop words ignored', () => {
    assert.deepEqual([...stemsOf('A TORNEIRA está pingando!')], ['torneir', 'ping']);
    assert.deepEqual([...stemsOf('Não, é isso aí?')], []);
  });

  describe('offline responder', () => {
    it("scores 1 for a message that is the repair's own title", async () => {
      for (const doc of docs) {
        const agent = new RepairAgent({ responder: offline });
        const turn = await agent.respond(doc.title);
        assert.deepEqual(turn.sources, [doc.id], doc.title);
        assert.equal(turn.relevanceScore, 1, doc.title);
      }
    });

    it('scores the share of the meaningful words the repair has', async () => {
      const turn = await new RepairAgent({ responder: offline }).respond(
        'torneira pingando carro bicicleta avião computador',
      );
      assert.deepEqual(turn.sources, ['torneira-pingando']);
      assert.equal(turn.relevanceScore, 0.33, 'two words of six');
      const half = await new RepairAgent({ responder: offline }).respond(
        'a torneira da cozinha está pingando sem parar desde ontem',
      );
      const score = half.relevanceScore;
      assert.ok(score !== null && score > 0 && score < 1, String(score));
      assert.ok(twoDecimals(score), String(score));
    });

    it('gives null for a message the knowledge base does not know', async () => {
      const turn = await new RepairAgent({ responder: offline }).respond('meu carro não liga');
      assert.equal(turn.solved, true);
      assert.deepEqual(turn.sources, []);
      assert.equal(turn.relevanceScore, null);
    });

    it('gives null for the fixed replies', async () => {
      const agent = new RepairAgent({ responder: offline, maxAttempts: 1 });
      assert.equal((await agent.respond('   ')).relevanceScore, null, 'empty message');
      assert.notEqual((await agent.respond('a porta está rangendo')).relevanceScore, null);
      assert.equal((await agent.respond('talvez')).relevanceScore, null, 'ambiguous');
      const exhausted = await agent.respond('não');
      assert.equal(agent.state, 'max_attempts');
      assert.equal(exhausted.relevanceScore, null);
      await agent.respond('a porta está rangendo');
      assert.equal((await agent.respond('sim')).relevanceScore, null, 'resolved');
    });

    it('scores later attempts against the description, not against "não"', async () => {
      const agent = new RepairAgent({ responder: offline });
      const first = await agent.respond('Torneira pingando');
      const second = await agent.respond('não');
      assert.equal(agent.currentAttempt, 2);
      assert.equal(first.relevanceScore, 1);
      assert.equal(second.relevanceScore, 1);
    });
  });

  it('scores the best of several passages', () => {
    const tap = docs.find((doc) => doc.id === 'torneira-pingando') as KnowledgeDoc;
    const door = docs.find((doc) => doc.id === 'porta-rangendo') as KnowledgeDoc;
    assert.equal(relevanceScore('porta rangendo', [{ doc: tap }, { doc: door }]), 1);
    assert.equal(relevanceScore('porta rangendo', [{ doc: tap }]), 0);
    assert.equal(relevanceScore('porta rangendo', []), null, 'no passage used');
    assert.equal(relevanceScore('sim, é isso aí', [{ doc: door }]), null, 'no meaningful word');
  });

  describe('language-model responder', () => {
    let ollama: FakeServer;
    before(async () => {
      ollama = await FakeServer.start('ollama');
    });
    beforeEach(() => ollama.behave(reply('Siga os passos.')));
    after(() => ollama.close());
    const agentWith = (options: Partial<LlmResponderOptions> = {}, useRag = true) =>
      new RepairAgent({
        responder: new LlmResponder({
          model: new OllamaChatModel({ baseUrl: ollama.url, model: 'm', timeoutMs: 5000 }),
          knowledge,
          ...options,
        }),
        useRag,
      });

    it('scores the passages it gave the model', async () => {
      const turn = await agentWith().respond('Torneira pingando');
      assert.equal(turn.responder, 'ollama');
      assert.equal(turn.relevanceScore, 1);
      const partial = await agentWith().respond(
        'torneira pingando carro bicicleta avião computador',
      );
      assert.equal(partial.relevanceScore, 0.33);
    });

    it('gives null with use_rag off, and for a reply without passages', async () => {
      const off = await agentWith({}, false).respond('Torneira pingando');
      assert.equal(off.relevanceScore, null);
      assert.equal(ollama.requests.length > 0, true);
      const unknown = await agentWith().respond('meu notebook não liga');
      assert.deepEqual(unknown.sources, []);
      assert.equal(unknown.relevanceScore, null);
    });

    it("takes the offline responder's score when it answers instead", async () => {
      ollama.behave(json({ error: 'boom' }, 500));
      const turn = await agentWith({ fallback: offline }).respond('Torneira pingando');
      assert.equal(turn.fallbackUsed, true);
      assert.equal(turn.relevanceScore, 1);
    });
  });
});
