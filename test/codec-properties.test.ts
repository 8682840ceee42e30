/** Property tests: any valid session survives a round trip, also when saved again with messages
 * added; the decoder's quick path agrees with the schema; no input crashes the decoder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AGENT_STATES } from '../src/agent/types.js';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  type SessionRecord,
  storedVersion,
} from '../src/sessions/codec.js';
import { SessionCorruptError } from '../src/sessions/errors.js';

const limits = { maxHistoryMessages: 1000, maxBytes: 10_000_000 };
const timestamp = fc
  .date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

const record: fc.Arbitrary<SessionRecord> = fc
  .record(
    {
      version: fc.nat(),
      state: fc.constantFrom(...AGENT_STATES),
      max_attempts: fc.integer({ min: 1, max: 10 }),
      use_rag: fc.boolean(),
      use_web_search: fc.boolean(),
      created_at: timestamp,
      updated_at: timestamp,
      reset_at: fc.option(timestamp, { nil: null }),
      token_sha256: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
      topic: fc.option(fc.stringMatching(/^[a-z-]{1,40}$/), { nil: null }),
      problem: fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: null }),
      conversation_history: fc.array(
        fc.record(
          {
            role: fc.constantFrom('user' as const, 'assistant' as const),
            content: fc.string({ unit: 'binary', maxLength: 300 }),
            at: timestamp,
          },
          { noNullPrototype: true },
        ),
        { maxLength: 30 },
      ),
      attempt: fc.nat(),
    },
    { noNullPrototype: true },
  )
  .map(({ attempt, ...r }) => ({
    schema_version: 1 as const,
    ...r,
    current_attempt: attempt % (r.max_attempts + 1),
  }));

/** Only a SessionCorruptError may come out of the decoder. */
function decodesOrRefuses(raw: string): void {
  try {
    decodeSession('prop', raw);
  } catch (error) {
    if (!(error instanceof SessionCorruptError)) throw error;
  }
  try {
    decodeHead('prop', raw);
  } catch (error) {
    if (!(error instanceof SessionCorruptError)) throw error;
  }
  const version = storedVersion(raw);
  assert.ok(Number.isSafeInteger(version) && version >= -1);
}

const message = fc.record(
  {
    role: fc.constantFrom('user' as const, 'assistant' as const),
    content: fc.string({ unit: 'binary', maxLength: 300 }),
    at: timestamp,
  },
  { noNullPrototype: true },
);

/** Text that is almost a timestamp, or one. */
const nearTimestamp = fc.oneof(
  timestamp,
  fc.constantFrom(
    '2025-02-29T10:00:00Z',
    '2024-02-29T10:00:00Z',
    '2025-04-31T10:00:00.000Z',
    '2025-01-01T24:00:00.000Z',
    '2025-01-01T10:00:00.123456789Z',
    '2025-01-01T10:00Z',
    '2025-01-01T10:00:00+01:00',
    '2025-01-01 10:00:00Z',
    '2025-1-01T10:00:00Z',
    '',
  ),
);

/** A value with one field changed, removed or added, at the top or in a message. */
const mutated = fc
  .tuple(
    record,
    fc.constantFrom(
      ...Object.keys({
        version: 0,
        state: 0,
        current_attempt: 0,
        max_attempts: 0,
        use_rag: 0,
        created_at: 0,
        updated_at: 0,
        reset_at: 0,
        token_sha256: 0,
        topic: 0,
        problem: 0,
        conversation_history: 0,
        write_id: 0,
      }),
      'role',
      'content',
      'at',
      'extra',
    ),
    fc.oneof(
      fc.jsonValue(),
      fc.integer({ min: -1, max: 11 }),
      nearTimestamp,
      fc.constant(undefined),
    ),
  )
  .map(([value, field, replacement]) => {
    const copy: Record<string, unknown> = { ...value, write_id: 'a-write-id' };
    const messages = value.conversation_history.map((m) => ({ ...m }) as Record<string, unknown>);
    copy.conversation_history = messages;
    const target = ['role', 'content', 'at', 'extra'].includes(field) ? messages[0] : copy;
    if (target !== undefined) {
      if (replacement === undefined) delete target[field];
      else target[field] = replacement;
    }
    return copy;
  });

describe('codec properties', () => {
  it('decode(encode(x)) equals x for any valid session', () => {
    fc.assert(
      fc.property(record, (value) => {
        const { json } = encodeSession('prop', value, limits);
        assert.deepEqual(decodeSession('prop', json), value);
        assert.equal(storedVersion(json), value.version);
      }),
      { numRuns: 300 },
    );
  });

  it('stores a session read back and saved with messages added exactly as a fresh encoding', () => {
    fc.assert(
      fc.property(
        record,
        fc.array(message, { maxLength: 4 }),
        fc.integer({ min: 1, max: 40 }),
        (value, added, keep) => {
          const read = decodeSession('prop', encodeSession('prop', value, limits).json);
          const next = { ...read, conversation_history: [...read.conversation_history, ...added] };
          const small = { ...limits, maxHistoryMessages: keep };
          for (const options of [limits, small]) {
            const saved = encodeSession('prop', next, options).json;
            const fresh = encodeSession('prop', structuredClone(next), options).json;
            const withoutId = (json: string) => json.replace(/"write_id":"[^"]*",/, '');
            assert.equal(withoutId(saved), withoutId(fresh));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes every value as the schema does, by the quick path or not', () => {
    // With a field the record does not know, a value always goes through the schema.
    const bySchema = (value: object) => JSON.stringify({ ...value, zz_unknown: true });
    const outcome = (raw: string) => {
      try {
        return decodeSession('prop', raw);
      } catch (error) {
        if (!(error instanceof SessionCorruptError)) throw error;
        return 'refused';
      }
    };
    fc.assert(
      fc.property(mutated, (value) => {
        const raw = JSON.stringify(value);
        if (raw === undefined) return;
        assert.deepEqual(outcome(raw), outcome(bySchema(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('never crashes on random text or bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => decodesOrRefuses(text)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) =>
        decodesOrRefuses(Buffer.from(bytes).toString()),
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.json(), (json) => decodesOrRefuses(json)),
      { numRuns: 500 },
    );
  });

  it('never crashes on a valid value that was cut, spliced or had bytes replaced', () => {
    fc.assert(
      fc.property(
        record,
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 20 }),
        (value, a, b, insert) => {
          const { json } = encodeSession('prop', value, limits);
          const start = a % (json.length + 1);
          const end = start + (b % (json.length - start + 1));
          decodesOrRefuses(json.slice(0, start) + insert + json.slice(end));
          decodesOrRefuses(json.slice(0, start));
        },
      ),
      { numRuns: 500 },
    );
  });
});
