/** readLines: the line splitter under `sessions import` and the memory snapshot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countLines, readLines, UnreadLine } from '../src/files/read-lines.js';

async function* chunks(...parts: Array<string | Uint8Array>) {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function collect(source: AsyncIterable<string | UnreadLine>) {
  const lines: Array<string | UnreadLine> = [];
  for await (const line of source) lines.push(line);
  return lines;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('readLines', () => {
  it('gives every line by position: empty ones, \\r\\n endings and a last line without ending', async () => {
    const lines = await collect(
      readLines(chunks('um\r\n\ndois\nt', 'rês\nquatro'), { maxLineBytes: 100 }),
    );
    assert.deepEqual(lines, ['um', '', 'dois', 'três', 'quatro']);
    assert.deepEqual(await collect(readLines(chunks('a\n'), { maxLineBytes: 10 })), ['a']);
    assert.deepEqual(await collect(readLines(chunks(''), { maxLineBytes: 10 })), []);
  });

  it('skips a UTF-8 byte order mark at the start, even split across chunks, and only there', async () => {
    const whole = await collect(
      readLines(chunks(Buffer.concat([BOM, Buffer.from('{"a":1}\n{"b":2}\n')])), {
        maxLineBytes: 7,
      }),
    );
    assert.deepEqual(whole, ['{"a":1}', '{"b":2}'], 'the mark does not count toward the limit');
    const split = await collect(
      readLines(chunks(BOM.subarray(0, 1), BOM.subarray(1), '{"a":1}'), { maxLineBytes: 100 }),
    );
    assert.deepEqual(split, ['{"a":1}']);
    const later = await collect(
      readLines(chunks(Buffer.concat([Buffer.from('x\n'), BOM, Buffer.from('y')])), {
        maxLineBytes: 100,
      }),
    );
    assert.deepEqual(later, ['x', '\ufeffy'], 'a mark inside the file is data');
  });

  it('reads a line of exactly maxLineBytes and refuses one byte more, then goes on', async () => {
    const lines = await collect(readLines(chunks('12345\n123456\r\nfim'), { maxLineBytes: 5 }));
    assert.equal(lines[0], '12345');
    assert.ok(lines[1] instanceof UnreadLine);
    assert.equal(lines[1].problem, 'too-long');
    assert.equal(lines[1].maxBytes, 5);
    assert.equal(lines[2], 'fim');
  });

  it('drops a line of megabytes as it streams by, counting its bytes, and reads the next ones', async () => {
    const piece = Buffer.alloc(64 * 1024, 'x');
    const pieces = 80; // 5 MiB
    /** Chunks handed to the splitter so far. */
    let pulled = 0;
    async function* source() {
      pulled++;
      yield Buffer.from('primeira\n');
      for (let i = 0; i < pieces; i++) {
        pulled++;
        yield piece;
      }
      pulled++;
      yield Buffer.from('\nterceira\n');
      pulled++;
      yield Buffer.from('quarta');
    }
    const lines: Array<string | UnreadLine> = [];
    for await (const line of readLines(source(), { maxLineBytes: 1024 })) {
      // Reported once its line ending arrived, not before the line was over.
      if (line instanceof UnreadLine) assert.equal(pulled, pieces + 2);
      lines.push(line);
    }
    assert.equal(lines.length, 4);
    assert.equal(lines[0], 'primeira');
    const long = lines[1];
    assert.ok(long instanceof UnreadLine);
    assert.equal(long.problem, 'too-long');
    assert.equal(long.bytes, pieces * piece.length);
    assert.deepEqual(lines.slice(2), ['terceira', 'quarta']);
  });

  it('refuses a line that is not UTF-8 instead of reading it with replacement characters', async () => {
    const lines = await collect(
      readLines(chunks(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), 'ok'), { maxLineBytes: 100 }),
    );
    assert.ok(lines[0] instanceof UnreadLine);
    assert.equal(lines[0].problem, 'not-utf8');
    assert.equal(lines[1], 'ok');
  });

  it('counts lines without reading them as text', async () => {
    assert.equal(await countLines(chunks('a\nb\n', 'c')), 3);
    assert.equal(await countLines(chunks('a\nb\n')), 2);
    assert.equal(await countLines(chunks('')), 0);
  });
});
