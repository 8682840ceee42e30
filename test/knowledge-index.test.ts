import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadKnowledge, loadKnowledgeBase } from '../src/agent/knowledge.js';
import { KnowledgeIndex } from '../src/agent/knowledge-index.js';

describe('knowledge index', () => {
  let index: KnowledgeIndex;
  before(async () => {
    index = new KnowledgeIndex(await loadKnowledge());
  });

  it('gives the approaches of the matching repair, the one for the attempt first', () => {
    const label = (attempt: number, limit = 3) =>
      index
        .passages('a torneira está pingando', { attempt, limit })
        .map((p) => `${p.doc.id}#${p.number}`);
    assert.deepEqual(label(1), [
      'torneira-pingando#1',
      'torneira-pingando#2',
      'torneira-pingando#3',
    ]);
    assert.deepEqual(label(2), [
      'torneira-pingando#2',
      'torneira-pingando#1',
      'torneira-pingando#3',
    ]);
    assert.deepEqual(label(3, 1), ['torneira-pingando#3']);
    assert.deepEqual(
      label(5, 2),
      ['torneira-pingando#1', 'torneira-pingando#2'],
      'past the last approach',
    );
  });

  it('continues with the next relevant repair when there is room', () => {
    const passages = index.passages('a pia está entupida e o sifão está pingando', { limit: 6 });
    const docs = [...new Set(passages.map((p) => p.doc.id))];
    assert.ok(docs.length >= 2, docs.join(', '));
    assert.equal(passages.length, 6);
  });

  it('gives nothing for what the knowledge base does not cover', () => {
    for (const text of ['meu carro não liga', 'a internet caiu', 'oi']) {
      assert.deepEqual(index.passages(text), [], text);
      assert.equal(index.find(text), undefined, text);
    }
  });
});

describe('knowledge base with an extra folder', () => {
  it('adds its repairs and replaces a bundled one of the same name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cql-knowledge-'));
    try {
      const doc = (title: string) =>
        `# ${title}\n\nPalavras-chave: a, b, c\nProfissional: x\n\n## Tentativa 1: t\n\n1. passo\n`;
      await writeFile(join(dir, 'torneira-pingando.md'), doc('Torneira local'));
      await writeFile(join(dir, 'novo-reparo.md'), doc('Novo reparo'));
      await writeFile(join(dir, 'notas.txt'), 'ignored');
      const bundled = await loadKnowledge();
      const docs = await loadKnowledgeBase(dir);
      assert.equal(docs.length, bundled.length + 1);
      const byId = new Map(docs.map((d) => [d.id, d]));
      assert.equal(byId.get('torneira-pingando')?.title, 'Torneira local');
      assert.equal(byId.get('novo-reparo')?.title, 'Novo reparo');
      assert.deepEqual(await loadKnowledgeBase(), bundled);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
