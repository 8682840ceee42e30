import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../src/agent/llm/errors.js';
import { boundReply, replyText } from '../src/agent/llm/model.js';
import { ReplyTextStream } from '../src/agent/llm/stream-text.js';

/** `text` cut into pieces of `size` characters. */
function cut(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** Streams the pieces; returns what was passed on and the final text. */
function run(pieces: readonly string[], maxChars?: number) {
  const passed: string[] = [];
  const stream = new ReplyTextStream((piece) => passed.push(piece), maxChars);
  for (const piece of pieces) {
    stream.push(piece);
    if (stream.full) break;
  }
  return { passed, text: stream.end(), stream };
}

/** replyText, with an empty reply as '' rather than an error. */
function whole(text: string): string {
  try {
    return replyText(text, 'test');
  } catch (error) {
    assert.ok(error instanceof UpstreamError && error.failure === 'empty');
    return '';
  }
}

const SAMPLES = [
  'Feche o registro.\n\nTroque o courinho.',
  '  \n Feche o registro.  \n\n',
  '<think>o usuário quer saber</think>\n\nFeche o registro.',
  'Feche o registro.<think>talvez o reparo</think> Troque o courinho.',
  'Feche o registro.\n<think>mas talvez seja o reparo, vou pensar',
  '<think>só pensamento</think>',
  '   ',
  'Use o sinal < e > com cuidado: <thin> não é tag, </thinking> também não.',
  '<think>a</think><think>b</think>Resposta<think>c</think> final',
];

describe('reply text as it arrives', () => {
  it('cleans as a whole reply is cleaned, however the reply is cut', () => {
    for (const sample of SAMPLES) {
      for (const size of [1, 2, 3, 5, 8, 13, sample.length || 1]) {
        const { passed, text } = run(cut(sample, size));
        assert.equal(text, whole(sample), `${JSON.stringify(sample)} in pieces of ${size}`);
        assert.equal(passed.join(''), text, 'the pieces add up to the text');
        assert.ok(
          passed.every((piece) => piece !== ''),
          'no empty piece',
        );
      }
    }
  });

  it('passes text on as soon as it is certain, holding only blanks and possible tags', () => {
    const passed: string[] = [];
    const stream = new ReplyTextStream((piece) => passed.push(piece));
    stream.push('  Feche');
    assert.deepEqual(passed, ['Feche'], 'leading blanks dropped, text passed on at once');
    stream.push(' o registro.\n\n');
    assert.deepEqual(passed, ['Feche', ' o registro.'], 'trailing blanks wait');
    stream.push('Troque <th');
    assert.deepEqual(passed.at(-1), '\n\nTroque', 'a possible tag waits');
    stream.push('ink>não mostrar</think>o courinho.');
    assert.equal(stream.end(), 'Feche o registro.\n\nTroque o courinho.');
  });

  it('drops the reasoning before a closing tag only while nothing was passed on', () => {
    const template = 'raciocínio sem abertura</think>\nTroque o courinho.';
    assert.equal(run([template]).text, whole(template), 'in one piece: as a whole reply');
    assert.equal(run(['\n ', template]).text, 'Troque o courinho.', 'after blanks only');
    assert.equal(run(['<think>a</think>', 'b</think>', 'Resposta.']).text, 'Resposta.');
    // Once text was passed on, it stays: only the stray tag goes.
    const late = run(['pensando...', '</think>', ' Resposta.']);
    assert.equal(late.text, 'pensando... Resposta.');
    assert.equal(late.passed.join(''), late.text);
  });

  describe('bounded', () => {
    const paragraph = 'Passo com cuidado. '.repeat(20).trim();
    const long = Array.from({ length: 30 }, () => paragraph).join('\n\n');

    it('cuts where boundReply cuts the whole reply, however the reply is cut', () => {
      for (const max of [300, 1000, 8000]) {
        const expected = boundReply(long, max);
        for (const size of [1, 7, 64, 500]) {
          const { passed, text, stream } = run(cut(long, size), max);
          assert.equal(text, expected, `max ${max}, pieces of ${size}`);
          assert.equal(passed.join(''), text);
          assert.equal(stream.full, true);
          assert.ok(stream.received > text.length);
        }
      }
    });

    it('cuts at a sentence or a blank when no paragraph break is late enough', () => {
      const sentences = 'Uma frase curta aqui. '.repeat(100);
      const words = 'palavra '.repeat(200);
      const noBlank = 'x'.repeat(2000);
      for (const text of [sentences, words, noBlank]) {
        const { passed, text: got } = run(cut(text, 3), 500);
        assert.equal(got, boundReply(text, 500));
        assert.equal(passed.join(''), got);
      }
    });

    it('keeps a reply within the limit whole, holding its second half at paragraph breaks', () => {
      const text = `${'a'.repeat(600)}\n\n${'b'.repeat(300)}`;
      const passed: string[] = [];
      const stream = new ReplyTextStream((piece) => passed.push(piece), 1000);
      stream.push(text.slice(0, 450));
      assert.equal(passed.join(''), text.slice(0, 450), 'the first half flows');
      stream.push(text.slice(450, 650));
      assert.equal(passed.join(''), text.slice(0, 600), 'up to the paragraph break');
      stream.push(text.slice(650));
      assert.equal(passed.join(''), text.slice(0, 600), 'the last paragraph may still be cut');
      assert.equal(stream.end(), text);
      assert.equal(stream.full, false);
      assert.equal(passed.join(''), text);
    });
  });
});
