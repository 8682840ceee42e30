/** Property tests: any valid session survives a round trip; no input crashes the decoder. */
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
