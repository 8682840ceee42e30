/** The chat's rendering of a reply: the offline responder's real replies and a model's markdown
 * habits, as blocks (numbered steps, warnings set apart, titles, paragraphs). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { inlines, plainText, type ReplyBlock, replyBlocks } from '../web/src/chat/reply-blocks.js';
import { testResponder } from './support/fixtures.js';

async function replies(...messages: string[]): Promise<string[]> {
  const agent = new RepairAgent({ responder: await testResponder() });
  const answers = [];
  for (const message of messages) answers.push(await agent.chat(message));
  return answers;
}

const kinds = (blocks: ReplyBlock[]) => blocks.map((block) => block.kind);
const textOf = (block: ReplyBlock | undefined): string => {
  assert.ok(block);
  return 'inlines' in block ? plainText(block.inlines) : block.items.map(plainText).join(' | ');
};

describe('replyBlocks over the offline responder', () => {
  it('turns a repair into a title, an explanation, numbered steps and the question', async () => {
    const [reply] = await replies('a torneira está pingando');
    const blocks = replyBlocks(reply as string);
    assert.deepEqual(kinds(blocks), ['heading', 'paragraph', 'steps', 'paragraph']);
    assert.match(textOf(blocks[0]), /^Torneira pingando: /);
    const steps = blocks[2];
    assert.ok(steps?.kind === 'steps');
    assert.equal(steps.start, 1);
    assert.equal(steps.items.length, 6);
    assert.match(plainText(steps.items[0] as never), /^Feche o registro/);
    assert.match(textOf(blocks[3]), /O problema foi resolvido\?/);
  });

  it('sets the safety warning apart, before the steps', async () => {
    const [reply] = await replies('sinto cheiro de gás na cozinha');
    const blocks = replyBlocks(reply as string);
    assert.equal(blocks[0]?.kind, 'warning');
    assert.match(textOf(blocks[0]), /^Atenção: Cheiro de gás é uma emergência/);
    assert.ok(blocks.some((block) => block.kind === 'steps'));
    assert.equal(blocks.filter((block) => block.kind === 'warning').length, 1);
  });

  it('keeps the "tentativa n de m" line of a later attempt as a paragraph', async () => {
    const [, second] = await replies('a torneira está pingando', 'não');
    const blocks = replyBlocks(second as string);
    assert.equal(blocks[0]?.kind, 'paragraph');
    assert.match(textOf(blocks[0]), /tentativa 2 de 3/);
    assert.equal(blocks[1]?.kind, 'heading');
  });

  it('marks the generic guidance\'s "por segurança" paragraph as a warning', async () => {
    const [reply] = await replies('meu computador está lento');
    const blocks = replyBlocks(reply as string);
    assert.deepEqual(kinds(blocks), ['paragraph', 'warning']);
    assert.match(textOf(blocks[1]), /^Enquanto isso, por segurança:/);
  });
});

describe("replyBlocks over a model's markdown", () => {
  it('reads bold warnings, ") " numbering, bullets and markdown headings', () => {
    const blocks = replyBlocks(
      [
        '**Atenção:** desligue o disjuntor antes de começar.',
        '',
        '## Passos',
        '1) Tire a tampa.',
        '2) Troque a peça.',
        '',
        'Você vai precisar de:',
        '- chave de fenda',
        '* fita isolante',
      ].join('\n'),
    );
    assert.deepEqual(kinds(blocks), ['warning', 'heading', 'steps', 'paragraph', 'bullets']);
    const warning = blocks[0];
    assert.ok(warning?.kind === 'warning');
    assert.deepEqual(warning.inlines[0], { text: 'Atenção:', strong: true });
    assert.equal(textOf(blocks[4]), 'chave de fenda | fita isolante');
  });

  it('joins steps split by blank lines, and keeps a list that starts at 3', () => {
    const joined = replyBlocks('1. um\n\n2. dois\n\n3. três');
    assert.equal(joined.length, 1);
    assert.ok(joined[0]?.kind === 'steps');
    assert.equal(joined[0].items.length, 3);

    const later = replyBlocks('3. três\n4. quatro');
    assert.ok(later[0]?.kind === 'steps');
    assert.equal(later[0].start, 3);
  });

  it('continues a step on an indented line, and splits a restarted numbering', () => {
    const blocks = replyBlocks(
      '1. Feche o registro\n   que fica embaixo da pia.\n2. Abra\n1. De novo',
    );
    assert.equal(blocks.length, 2);
    assert.equal(textOf(blocks[0]), 'Feche o registro que fica embaixo da pia. | Abra');
    assert.ok(blocks[1]?.kind === 'steps');
    assert.equal(blocks[1].start, 1);
  });

  it('does not take a sentence that only mentions safety for a warning', () => {
    const blocks = replyBlocks(
      'Trocar o courinho é simples e tem pouca relação com a segurança da casa: leva dez minutos.',
    );
    assert.deepEqual(kinds(blocks), ['paragraph']);
  });

  it('reads CRLF line ends, and a last short line stays a paragraph', () => {
    const blocks = replyBlocks('Título curto\r\n\r\nTexto final sem ponto');
    assert.deepEqual(kinds(blocks), ['heading', 'paragraph']);
  });

  it('keeps markup as text (the page never renders a reply as HTML)', () => {
    const blocks = replyBlocks('<img src=x onerror=alert(1)> e **<b>negrito</b>**');
    assert.equal(textOf(blocks[0]), '<img src=x onerror=alert(1)> e <b>negrito</b>');
  });
});

describe('inlines', () => {
  it('splits **bold** runs and leaves an unmatched ** as written', () => {
    assert.deepEqual(inlines('a **b** c'), [
      { text: 'a ' },
      { text: 'b', strong: true },
      { text: ' c' },
    ]);
    assert.deepEqual(inlines('2 ** 3'), [{ text: '2 ** 3' }]);
    assert.deepEqual(inlines(''), [{ text: '' }]);
  });
});
