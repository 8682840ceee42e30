import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  HEAD_BYTES,
  type SessionRecord,
} from '../src/sessions/codec.js';
import { SessionCorruptError, SessionTooLargeError } from '../src/sessions/errors.js';

const limits = { maxHistoryMessages: 100, maxBytes: 262144 };
const at = '2025-10-26T10:30:00.000Z';

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
    assert.deepEqual(JSON.parse(json), record());
    assert.deepEqual(decodeSession('s', json), record());
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
