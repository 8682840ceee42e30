import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KnowledgeFormatError, loadKnowledge, parseKnowledgeDoc } from '../src/agent/knowledge.js';
import { OfflineResponder } from '../src/agent/offline-responder.js';
import { offlineReplies } from '../src/texts/agent.js';
import { DESCRIPTIONS } from './support/descriptions.js';

const request = { maxAttempts: 3, history: [], useRag: true, useWebSearch: true };

describe('knowledge base', () => {
  it('has at least 15 repairs, each with three distinct approaches, keywords and a professional', async () => {
    const docs = await loadKnowledge();
    assert.ok(docs.length >= 15, `${docs.length} repairs`);
    for (const doc of docs) {
      assert.equal(doc.approaches.length, 3, doc.id);
      assert.equal(
        new Set(doc.approaches.map((a) => a.title)).size,
        3,
        `${doc.id}: distinct titles`,
      );
      assert.equal(new Set(doc.approaches.map((a) => a.body)).size, 3, `${doc.id}: distinct steps`);
      assert.ok(doc.keywords.length >= 5, doc.id);
      assert.ok(doc.professional.length > 0, doc.id);
    }
  });

  it('warns about safety wherever electricity, gas or heights are involved', async () => {
    const docs = new Map((await loadKnowledge()).map((d) => [d.id, d]));
    for (const id of [
      'disjuntor-desarmando',
      'tomada-sem-energia',
      'chuveiro-sem-agua-quente',
      'lampada-nao-acende',
      'fogao-nao-acende',
      'cheiro-de-gas',
      'goteira-no-teto',
    ]) {
      assert.ok(docs.get(id)?.safety, `${id} has a safety warning`);
    }
  });

  it('rejects a malformed file with its name and the problem', () => {
    assert.throws(
      () => parseKnowledgeDoc('broken.md', '# Title\n\nPalavras-chave: a, b, c\nProfissional: x\n'),
      (error: unknown) =>
        error instanceof KnowledgeFormatError && /broken\.md.*Tentativa/.test(error.message),
    );
    assert.throws(
      () =>
        parseKnowledgeDoc(
          'gap.md',
          '# T\nPalavras-chave: a, b, c\nProfissional: x\n## Tentativa 1: a\n1. x\n## Tentativa 3: c\n1. y\n',
        ),
      /gap\.md: esperava "## Tentativa 2"/,
    );
    assert.throws(
      () => parseKnowledgeDoc('nokw.md', '# T\nProfissional: x\n'),
      /nokw\.md.*Palavras-chave/,
    );
  });
});

describe('offline responder', () => {
  it('recognises common descriptions of each kind of repair', async () => {
    const responder = await OfflineResponder.fromDirectory();
    const wrong = DESCRIPTIONS.filter(([text, id]) => responder.find(text)?.id !== id).map(
      ([text, id]) => `${text} -> ${responder.find(text)?.id ?? 'nothing'} (expected ${id})`,
    );
    assert.deepEqual(wrong, []);
  });

  it('does not make up a repair for what it does not know', async () => {
    const responder = await OfflineResponder.fromDirectory();
    for (const text of [
      'meu carro não liga',
      'a internet caiu',
      'quero aprender a cozinhar',
      'oi',
      '???',
    ]) {
      assert.equal(responder.find(text), undefined, text);
      const reply = await responder.solve({ ...request, problem: text, attempt: 1 });
      assert.equal(reply.needsDetails, true);
      assert.equal(reply.text, offlineReplies.genericGuidance);
      assert.deepEqual(reply.sources, []);
    }
  });

  it('gives a different approach for each attempt, naming its source', async () => {
    const responder = await OfflineResponder.fromDirectory();
    const replies = [];
    for (const attempt of [1, 2, 3]) {
      replies.push(
        await responder.solve({ ...request, problem: 'a torneira está pingando', attempt }),
      );
    }
    assert.equal(new Set(replies.map((r) => r.text)).size, 3);
    for (const reply of replies) {
      assert.equal(reply.needsDetails, false);
      assert.deepEqual(reply.sources, ['torneira-pingando']);
    }
    assert.doesNotMatch(replies[0]?.text ?? '', /encanador/, 'no professional on the first try');
    assert.match(replies[2]?.text ?? '', /chamar um encanador/);
  });

  it('puts the safety warning first for dangerous repairs', async () => {
    const responder = await OfflineResponder.fromDirectory();
    const reply = await responder.solve({
      ...request,
      problem: 'a tomada não tem energia',
      attempt: 1,
    });
    assert.match(reply.text, /^Atenção: .*disjuntor/s);
  });

  it('still answers past the last approach when more attempts are allowed', async () => {
    const responder = await OfflineResponder.fromDirectory();
    const reply = await responder.solve({
      ...request,
      maxAttempts: 5,
      problem: 'a porta está rangendo',
      attempt: 4,
    });
    assert.equal(reply.needsDetails, false);
    assert.match(reply.text, /abordagens mais comuns/);
  });
});
