/** importSessions against files written to attack it: far expiries, a byte order mark, a line of
 * megabytes. Each is refused or bounded, and the lines around it still import. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { MAX_SESSION_TTL_SECONDS } from '../src/config.js';
import { readLines } from '../src/files/read-lines.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import {
  IMPORT_LINE_OVERHEAD_BYTES,
  importSessions,
  maxImportLineBytes,
} from '../src/sessions/transfer.js';
import { storedRecord } from './support/fixtures.js';

const limits = { maxHistoryMessages: 100, maxBytes: 1024, defaultTtl: 3600 };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A session as an export writes it (the fields every version of the format has). */
function exported(id: string, expiry: { ttl?: number | null; expires_at?: string | null }) {
  return JSON.stringify({
    session_id: id,
    ttl: null,
    expires_at: null,
    ...expiry,
    session: storedRecord('a torneira pinga'),
  });
}

const lines = (source: Readable | AsyncIterable<Buffer>, maxBytes = limits.maxBytes) =>
  readLines(source, { maxLineBytes: maxImportLineBytes(maxBytes) });

describe('importSessions, against hostile files', () => {
  it('caps an expiry in year 9999 (or a ttl of billions of seconds) at MAX_SESSION_TTL_SECONDS', async () => {
    const store = new MemorySessionStore();
    const file = [
      exported('ano-9999', { expires_at: '9999-12-31T23:59:59.000Z' }),
      exported('ttl-enorme', { ttl: 251_606_267_582 }),
      exported('dez-minutos', { expires_at: new Date(Date.now() + 600_000).toISOString() }),
    ].join('\n');
    const report = await importSessions(store, lines(Readable.from([Buffer.from(file)])), limits);
    assert.deepEqual(report.failed, []);
    assert.equal(report.imported, 3);
    for (const id of ['ano-9999', 'ttl-enorme']) {
      const ttl = await store.ttl(id);
      assert.ok(ttl !== null && ttl <= MAX_SESSION_TTL_SECONDS, `${id}: ${ttl}`);
      assert.ok(ttl > MAX_SESSION_TTL_SECONDS - 60, `${id}: ${ttl}`);
    }
    const kept = await store.ttl('dez-minutos');
    assert.ok(kept !== null && kept <= 600 && kept > 540, 'a sane expiry is kept as it is');
    await store.close();
  });

  it('accepts a UTF-8 byte order mark at the start of the file', async () => {
    const store = new MemorySessionStore();
    const file = Buffer.concat([
      BOM,
      Buffer.from(
        `${exported('primeira', { ttl: 60 })}\r\n${exported('segunda', { ttl: 60 })}\r\n`,
      ),
    ]);
    const report = await importSessions(store, lines(Readable.from([file])), limits);
    assert.deepEqual(report.failed, []);
    assert.equal(report.imported, 2);
    assert.ok(await store.exists('primeira'), 'line 1, behind the mark');
    await store.close();
  });

  it('reports a line of megabytes by number without reading it whole, and imports the next lines', async () => {
    const store = new MemorySessionStore();
    const piece = Buffer.alloc(64 * 1024, 'x');
    const pieces = 64; // 4 MiB
    async function* file() {
      yield Buffer.from(`${exported('antes', { ttl: 60 })}\n`);
      yield Buffer.from('{"session_id":"enorme","ttl":60,"session":{"problem":"');
      for (let i = 0; i < pieces; i++) yield piece;
      yield Buffer.from(`"}}\n${exported('depois', { ttl: 60 })}\n`);
      yield Buffer.from(`${exported('por-ultimo', { ttl: 60 })}`);
    }
    const report = await importSessions(store, lines(file()), limits);
    assert.equal(report.imported, 3);
    assert.equal(report.failed.length, 1);
    const [failure] = report.failed;
    assert.equal(failure?.line, 2);
    assert.equal(failure?.problem.code, 'line_too_long');
    if (failure?.problem.code === 'line_too_long') {
      assert.ok(failure.problem.bytes > pieces * piece.length);
      assert.equal(failure.problem.limit, limits.maxBytes + IMPORT_LINE_OVERHEAD_BYTES);
    }
    assert.equal(await store.exists('enorme'), false);
    for (const id of ['antes', 'depois', 'por-ultimo']) assert.ok(await store.exists(id), id);
    await store.close();
  });

  it('names what is wrong with each bad line, with a code for a message in any language', async () => {
    const store = new MemorySessionStore();
    const file = [
      'not json',
      '[1, 2]',
      '{"session_id":"../x","ttl":1,"session":{}}',
      '{"session_id":"ok","expires_at":"amanhã","session":{}}',
      '{"session_id":"ok","ttl":-1,"session":{}}',
      '{"session_id":"ok","ttl":60,"session":{"schema_version":1}}',
    ].join('\n');
    const report = await importSessions(store, lines(Readable.from([Buffer.from(file)])), limits);
    assert.deepEqual(
      report.failed.map((f) => [f.line, f.problem.code]),
      [
        [1, 'not_json'],
        [2, 'not_object'],
        [3, 'bad_session_id'],
        [4, 'bad_expires_at'],
        [5, 'bad_ttl'],
        [6, 'error'],
      ],
    );
    assert.match(report.failed[5]?.reason ?? '', /Session "ok" holds an unreadable value/);
    assert.equal(report.imported, 0);
    await store.close();
  });
});
