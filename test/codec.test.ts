import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { SessionCipher } from '../src/sessions/cipher.js';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  HEAD_BYTES,
  type SessionRecord,
  writeStamp,
} from '../src/sessions/codec.js';
import { SessionCorruptError, SessionTooLargeError } from '../src/sessions/errors.js';

const limits = { maxHistoryMessages: 100, maxBytes: 262144 };
const at = '2025-10-26T10:30:00.000Z';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    schema_version: 1,
    version: 7,
    state: 'waiting_feedback',
    current_attempt: 2,
    max_attempts: 3,
    use_rag: true,
    use_web_search: false,
    created_at: at,
    updated_at: at,
    reset_at: null,
    token_sha256: null,
    topic: null,
    problem: 'a torneira está pingando',
    conversation_history: [
      { role: 'user', content: 'a torneira está pingando', at },
      { role: 'assistant', content: 'Troque o courinho.', at },
    ],
    ...overrides,
  };
}

function corrupt(raw: string, pattern: RegExp) {
  assert.throws(
    () => decodeSession('user-123', raw),
    (error: unknown) =>
      error instanceof SessionCorruptError &&
      error.code === 'ERR_SESSION_CORRUPT' &&
      error.sessionId === 'user-123' &&
      /"user-123"/.test(error.message) &&
      pattern.test(error.message),
  );
}

describe('codec', () => {
  it('round-trips a session as plain JSON', () => {
    const { json } = encodeSession('s', record(), limits);
    const { write_id: written, ...stored } = JSON.parse(json);
    assert.deepEqual(stored, record());
    assert.match(written, UUID);
    assert.deepEqual(decodeSession('s', json), record(), 'the write id is not part of the record');
  });

  it('writes a fresh write id, before created_at, at every encoding', () => {
    const first = encodeSession('s', record(), limits).json;
    const second = encodeSession('s', record(), limits).json;
    const written =
      /^\{"schema_version":1,"version":7,"state":"waiting_feedback","current_attempt":2,"max_attempts":3,"use_rag":true,"use_web_search":false,"write_id":"([0-9a-f-]{36})","created_at":"/;
    assert.notEqual(written.exec(first)?.[1], undefined, first);
    assert.notEqual(written.exec(first)?.[1], written.exec(second)?.[1]);
    assert.equal(first.replace(UUID_IN_TEXT, ''), second.replace(UUID_IN_TEXT, ''));
  });

  it('reads values written before write ids existed, whole and by their head', () => {
    const old = JSON.stringify(record());
    assert.deepEqual(decodeSession('s', old), record());
    const { problem: _problem, conversation_history: _history, ...headFields } = record();
    assert.deepEqual(decodeHead('s', old), headFields);
  });

  it('writes a conversation read back, with messages added, as serializing it whole would', () => {
    const read = decodeSession('s', encodeSession('s', record(), limits).json);
    const added = [
      ...read.conversation_history,
      { role: 'user' as const, content: 'não "funcionou"\n', at },
      { role: 'assistant' as const, content: 'Tente o registro 🚰', at },
    ];
    const next = record({ version: 8, conversation_history: added });
    const { json } = encodeSession('s', next, limits);
    const { write_id: _written, ...stored } = JSON.parse(json);
    assert.deepEqual(stored, next);
    assert.ok(json.endsWith(`,"conversation_history":${JSON.stringify(added)}}`), json);
    // Saved again unchanged, and after a save: the same text.
    assert.deepEqual(decodeSession('s', encodeSession('s', next, limits).json), next);
    assert.deepEqual(decodeSession('s', encodeSession('s', next, limits).json), next);
  });

  it('never writes a stored text for a conversation changed otherwise than by appending', () => {
    const read = decodeSession('s', encodeSession('s', record(), limits).json);
    const [first, second] = read.conversation_history;
    assert.ok(first && second);
    const other = { role: 'user' as const, content: 'outra coisa', at };
    for (const history of [
      [second], // the first one dropped
      [second, first], // reordered
      [other, second], // one replaced
      [first], // the last one dropped
      [...read.conversation_history, other].slice(1), // trimmed after an append
    ]) {
      const changed = record({ conversation_history: history });
      assert.deepEqual(decodeSession('s', encodeSession('s', changed, limits).json), changed);
    }
    // Trimmed by the limit after an append.
    const trimmed = encodeSession('s', record({ conversation_history: [first, second, other] }), {
      ...limits,
      maxHistoryMessages: 2,
    });
    assert.deepEqual(decodeSession('s', trimmed.json).conversation_history, [second, other]);
  });

  it('binds the write id to an encrypted conversation, read by either path and saved again', () => {
    const keys = loadConfig({
      env: { SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
      envFile: false,
    }).encryptionKeys;
    const cipher = new SessionCipher(keys);
    const sealed = { ...limits, cipher };
    const { json } = encodeSession('s', record(), sealed);
    assert.match(json, /"write_id":"[0-9a-f-]{36}","created_at":/);
    // Another layout (the sealed field first) is read by the general path, which rebuilds the
    // head the ciphertext is bound to, write id included.
    const { sealed: envelope, ...head } = JSON.parse(json);
    assert.deepEqual(
      decodeSession('s', JSON.stringify({ sealed: envelope, ...head }), cipher),
      record(),
    );
    // The head is bound: another write id does not open.
    assert.throws(
      () => decodeSession('s', json.replace(/"write_id":"[^"]*"/, '"write_id":"other"'), cipher),
      SessionCorruptError,
    );
    const read = decodeSession('s', json, cipher);
    const added = [...read.conversation_history, { role: 'assistant' as const, content: 'ok', at }];
    const next = record({ version: 8, conversation_history: added });
    assert.deepEqual(decodeSession('s', encodeSession('s', next, sealed).json, cipher), next);
  });

  it('writes only the record of a value read with fields it does not know', () => {
    const raw = JSON.stringify({
      ...record(),
      conversation_history: [{ role: 'user', content: 'oi', at, extra: 'x' }],
      unknown: [1],
    });
    const read = decodeSession('s', raw);
    assert.deepEqual(read.conversation_history, [{ role: 'user', content: 'oi', at }]);
    const { json } = encodeSession('s', read, limits);
    assert.ok(!json.includes('extra') && !json.includes('unknown'), json);
    // A field written twice: JSON.parse keeps the later one, and so does the next save.
    const twice = JSON.stringify(record()).replace(
      /\}$/,
      `,"conversation_history":[{"role":"user","content":"later","at":"${at}"}]}`,
    );
    const again = decodeSession('s', twice);
    assert.deepEqual(
      again.conversation_history.map((m) => m.content),
      ['later'],
    );
    const saved = decodeSession('s', encodeSession('s', again, limits).json);
    assert.deepEqual(
      saved.conversation_history.map((m) => m.content),
      ['later'],
    );
  });

  it('writes the small fields first, so a listing needs only the head of each value', () => {
    const history = Array.from({ length: 100 }, (_, i) => ({
      role: 'user' as const,
      content: `${'x'.repeat(500)}${i}`,
      at,
    }));
    const big = encodeSession('s', record({ conversation_history: history }), limits).json;
    const head = decodeHead('s', Buffer.from(big).subarray(0, HEAD_BYTES).toString());
    const { problem: _problem, conversation_history: _history, ...headFields } = record();
    assert.deepEqual(head, headFields);
    // The longest head: a huge version, the longest state, two-digit attempts.
    const longest = encodeSession(
      's',
      record({ version: Number.MAX_SAFE_INTEGER, current_attempt: 10, max_attempts: 10 }),
      limits,
    ).json;
    assert.ok(longest.indexOf(',"problem":') < HEAD_BYTES, 'the head fits in HEAD_BYTES');
  });

  it('reads no head from a value in another key order (the caller then decodes it all)', () => {
    const { problem, ...rest } = record();
    const reordered = JSON.stringify({ problem, ...rest });
    assert.equal(decodeHead('s', reordered), undefined);
    assert.equal(decodeSession('s', reordered).version, 7);
  });

  it('trims history oldest-first beyond the limit', () => {
    const history = Array.from({ length: 7 }, (_, i) => ({
      role: 'user' as const,
      content: `m${i}`,
      at,
    }));
    const { record: stored } = encodeSession('s', record({ conversation_history: history }), {
      ...limits,
      maxHistoryMessages: 4,
    });
    assert.deepEqual(
      stored.conversation_history.map((m) => m.content),
      ['m3', 'm4', 'm5', 'm6'],
    );
  });

  it('refuses a session still too large after trimming, naming it and both sizes', () => {
    const history = [{ role: 'user' as const, content: 'ç'.repeat(2000), at }];
    assert.throws(
      () =>
        encodeSession('big-one', record({ conversation_history: history }), {
          ...limits,
          maxBytes: 3000,
        }),
      (error: unknown) =>
        error instanceof SessionTooLargeError &&
        error.code === 'ERR_SESSION_TOO_LARGE' &&
        error.bytes > 4000 &&
        /"big-one".*3000-byte limit/.test(error.message),
    );
  });

  it('counts bytes, not characters, against the limit', () => {
    const sized = (char: string) =>
      record({ conversation_history: [{ role: 'user', content: char.repeat(600), at }] });
    const tight = { ...limits, maxBytes: 1200 };
    assert.doesNotThrow(() => encodeSession('s', sized('a'), tight), '600 ASCII characters fit');
    assert.throws(
      () => encodeSession('s', sized('ç'), tight),
      SessionTooLargeError,
      '600 "ç" are 1200 bytes',
    );
  });

  it('raises SessionCorruptError for invalid JSON', () => {
    corrupt('{"schema_version":1,', /not valid JSON/);
    corrupt('\x80\x81 pickle?', /not valid JSON/);
    corrupt('', /not valid JSON/);
  });

  it('raises SessionCorruptError for an unknown schema_version', () => {
    corrupt(JSON.stringify(record({ schema_version: 2 as 1 })), /unknown schema_version 2/);
    const { schema_version: _, ...without } = record();
    corrupt(JSON.stringify(without), /unknown schema_version undefined/);
  });

  it('raises SessionCorruptError for a wrong shape, naming the field', () => {
    corrupt('[1,2,3]', /value/);
    corrupt('null', /value/);
    corrupt(JSON.stringify(record({ state: 'exploded' as 'resolved' })), /state/);
    corrupt(JSON.stringify(record({ current_attempt: -1 })), /current_attempt/);
    corrupt(JSON.stringify(record({ current_attempt: 9 })), /above max_attempts/);
    corrupt(
      JSON.stringify({ ...record(), conversation_history: [{ role: 'system', content: 'x', at }] }),
      /conversation_history\.0\.role/,
    );
    corrupt(JSON.stringify({ ...record(), created_at: 'yesterday' }), /created_at/);
  });

  it('raises SessionCorruptError for a canonical head with bad fields', () => {
    const raw = encodeSession('s', record(), limits).json.replace(
      '"state":"waiting_feedback"',
      '"state":"zzz"',
    );
    assert.throws(() => decodeHead('user-123', raw), SessionCorruptError);
  });
});

describe('writeStamp', () => {
  it('is the head through the write id, different for every encoding, clear or encrypted', () => {
    const cipher = new SessionCipher(
      loadConfig({
        env: { SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
        envFile: false,
      }).encryptionKeys,
    );
    for (const options of [limits, { ...limits, cipher }]) {
      const encoded = encodeSession('s', record(), options);
      const first = encoded.json;
      const second = encodeSession('s', record(), options).json;
      const stamp = writeStamp(first);
      assert.ok(stamp !== undefined && first.startsWith(stamp));
      assert.equal(encoded.stamp, stamp, 'encodeSession tells the stamp of what it wrote');
      assert.match(stamp, /^\{"schema_version":1,"version":7,.*,"write_id":"[0-9a-f-]{36}"$/);
      assert.ok(stamp.length < HEAD_BYTES);
      assert.notEqual(writeStamp(second), stamp, 'a new write id in every encoding');
    }
  });

  it('is undefined for a value without a write id or not in canonical form', () => {
    const { write_id: _, ...withoutId } = JSON.parse(encodeSession('s', record(), limits).json);
    assert.equal(writeStamp(JSON.stringify(withoutId)), undefined);
    assert.equal(writeStamp(JSON.stringify({ write_id: 'x', schema_version: 1 })), undefined);
    assert.equal(writeStamp('not json'), undefined);
    const far = `{"schema_version":1,"pad":"${'x'.repeat(HEAD_BYTES)}","write_id":"late"}`;
    assert.equal(writeStamp(far), undefined, 'not within the head');
  });
});
