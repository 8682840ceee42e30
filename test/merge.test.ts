/**
 * The record-level merge of two branches of a session (src/sessions/merge.ts), and what the
 * failover writes back given the memory copy and Redis's value (stores/write-back.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../src/config.js';
import { SessionCipher } from '../src/sessions/cipher.js';
import { decodeSession, encodeSession, type SessionRecord } from '../src/sessions/codec.js';
import { SessionCorruptError, SessionTooLargeError } from '../src/sessions/errors.js';
import { mergeRecords, sessionMerge } from '../src/sessions/merge.js';
import { type MergeVerdict, planWriteBack } from '../src/sessions/stores/write-back.js';

type Message = SessionRecord['conversation_history'][number];

const at = (minute: number, ms = 0) =>
  new Date(Date.UTC(2025, 9, 26, 10, minute, 0, ms)).toISOString();
const user = (content: string, minute: number, ms = 0): Message => ({
  role: 'user',
  content,
  at: at(minute, ms),
});
const reply = (content: string, minute: number, ms = 0): Message => ({
  role: 'assistant',
  content,
  at: at(minute, ms),
});

const common = [user('a torneira está pingando', 0), reply('Troque a vedação.', 0)];

function session(changes: Partial<SessionRecord>): SessionRecord {
  return {
    schema_version: 1,
    version: 1,
    state: 'waiting_feedback',
    current_attempt: 1,
    max_attempts: 3,
    use_rag: true,
    use_web_search: true,
    created_at: at(0),
    updated_at: at(0),
    reset_at: null,
    token_sha256: 'a'.repeat(64),
    topic: 'torneira',
    problem: 'a torneira está pingando',
    conversation_history: common,
    ...changes,
  };
}

const LIMITS = { maxHistoryMessages: 100, maxBytes: 262144 };

function merged(verdict: MergeVerdict, cipher?: SessionCipher): SessionRecord {
  assert.equal(verdict.kind, 'merged');
  return decodeSession('s', verdict.kind === 'merged' ? verdict.value : '', cipher);
}

const contents = (record: SessionRecord) => record.conversation_history.map((m) => m.content);

describe('merging two branches of a session', () => {
  it('keeps every message of both once, in time order, with the state of the branch saved last', () => {
    const local = session({
      version: 4,
      updated_at: at(5),
      conversation_history: [
        ...common,
        user('talvez, não sei', 5),
        reply('Não entendi. O problema foi resolvido?', 5),
      ],
    });
    const redis = session({
      version: 5,
      updated_at: at(6),
      current_attempt: 3,
      conversation_history: [
        ...common,
        user('não', 3),
        reply('Tentativa 2 de 3.', 3),
        user('não', 6),
        reply('Tentativa 3 de 3.', 6),
      ],
    });
    const verdict = mergeRecords('s', local, redis, LIMITS);
    const record = merged(verdict);
    assert.deepEqual(contents(record), [
      'a torneira está pingando',
      'Troque a vedação.',
      'não',
      'Tentativa 2 de 3.',
      'talvez, não sei',
      'Não entendi. O problema foi resolvido?',
      'não',
      'Tentativa 3 de 3.',
    ]);
    assert.equal(record.version, 6, 'above both branches');
    assert.equal(record.current_attempt, 3, 'from the branch saved last');
    assert.equal(record.updated_at, at(6));
    assert.deepEqual(verdict.kind === 'merged' && verdict.counts, {
      localOnly: 2,
      redisOnly: 4,
      duplicates: 2,
      beforeReset: 0,
      dropped: 0,
      version: 6,
    });
  });

  it('takes state, attempt, problem and topic from the memory branch when it was saved last', () => {
    const local = session({
      version: 2,
      updated_at: at(9),
      state: 'resolved',
      topic: 'vedação',
      conversation_history: [...common, user('sim', 9), reply('Que bom!', 9)],
    });
    const redis = session({
      version: 2,
      updated_at: at(4),
      current_attempt: 2,
      conversation_history: [...common, user('não', 4), reply('Tentativa 2 de 3.', 4)],
    });
    const record = merged(mergeRecords('s', local, redis, LIMITS));
    assert.equal(record.state, 'resolved');
    assert.equal(record.current_attempt, 1);
    assert.equal(record.topic, 'vedação');
    assert.equal(record.version, 3);
  });

  it('treats the same role, time and text as one message, and nothing else', () => {
    const twice = user('não', 2);
    const local = session({
      version: 3,
      updated_at: at(2),
      conversation_history: [...common, twice, reply('Tentativa 2 de 3.', 2), user('oi', 7)],
    });
    // The same text at another time, and the same time with another text, are other messages.
    const redis = session({
      version: 3,
      updated_at: at(3),
      conversation_history: [...common, twice, user('não', 3), user('oi!', 7)],
    });
    const verdict = mergeRecords('s', local, redis, LIMITS);
    const record = merged(verdict);
    assert.deepEqual(contents(record), [
      'a torneira está pingando',
      'Troque a vedação.',
      'não',
      'Tentativa 2 de 3.',
      'não',
      'oi!',
      'oi',
    ]);
    assert.equal(verdict.kind === 'merged' && verdict.counts.duplicates, 3);
  });

  it('keeps each branch in its own order when their turns share a millisecond, Redis first', () => {
    const local = session({
      version: 2,
      updated_at: at(4),
      conversation_history: [...common, user('talvez A', 4), reply('resposta A', 4)],
    });
    const redis = session({
      version: 2,
      updated_at: at(4),
      conversation_history: [...common, user('talvez B', 4), reply('resposta B', 4)],
    });
    assert.deepEqual(contents(merged(mergeRecords('s', local, redis, LIMITS))).slice(2), [
      'talvez B',
      'resposta B',
      'talvez A',
      'resposta A',
    ]);
  });

  it('merges only what came after the later reset', () => {
    // The memory branch started the conversation over at 10:04; Redis's went on from before.
    const local = session({
      version: 3,
      updated_at: at(5),
      reset_at: at(4),
      problem: 'a pia está entupida',
      conversation_history: [user('a pia está entupida', 5), reply('Use um desentupidor.', 5)],
    });
    const redis = session({
      version: 4,
      updated_at: at(6),
      conversation_history: [
        ...common,
        user('não', 3),
        reply('Tentativa 2 de 3.', 3),
        user('talvez', 6),
        reply('Não entendi.', 6),
      ],
    });
    const verdict = mergeRecords('s', local, redis, LIMITS);
    const record = merged(verdict);
    assert.deepEqual(contents(record), [
      'a pia está entupida',
      'Use um desentupidor.',
      'talvez',
      'Não entendi.',
    ]);
    assert.equal(record.reset_at, at(4));
    assert.equal(verdict.kind === 'merged' && verdict.counts.beforeReset, 4);
  });

  it('does not merge two different sessions under one id: the newer creation wins', () => {
    const older = session({ version: 7 });
    const newer = session({ version: 1, created_at: at(30), updated_at: at(30) });
    assert.deepEqual(mergeRecords('s', older, newer, LIMITS), { kind: 'distinct', newer: 'redis' });
    assert.deepEqual(mergeRecords('s', newer, older, LIMITS), { kind: 'distinct', newer: 'local' });
    const otherToken = session({ token_sha256: 'b'.repeat(64) });
    assert.equal(mergeRecords('s', otherToken, older, LIMITS).kind, 'distinct');
  });

  it('writes a branch that already holds the other as it is, and nothing when Redis holds it all', () => {
    const ahead = session({
      version: 4,
      updated_at: at(5),
      conversation_history: [...common, user('não', 5), reply('Tentativa 2 de 3.', 5)],
    });
    const behind = session({ version: 2 });
    assert.deepEqual(mergeRecords('s', ahead, behind, LIMITS), { kind: 'local' });
    assert.deepEqual(mergeRecords('s', behind, ahead, LIMITS), { kind: 'redis' });
  });

  it('counts what MAX_HISTORY_MESSAGES drops, oldest first', () => {
    const local = session({
      version: 2,
      updated_at: at(5),
      conversation_history: [...common, user('um', 5), reply('resposta um', 5)],
    });
    const redis = session({
      version: 2,
      updated_at: at(6),
      conversation_history: [...common, user('dois', 6), reply('resposta dois', 6)],
    });
    const verdict = mergeRecords('s', local, redis, { ...LIMITS, maxHistoryMessages: 4 });
    assert.deepEqual(contents(merged(verdict)), ['um', 'resposta um', 'dois', 'resposta dois']);
    assert.equal(verdict.kind === 'merged' && verdict.counts.dropped, 2);
  });

  it('counts what SESSION_MAX_BYTES drops: the fewest oldest messages that make it fit', () => {
    const long = (n: number) => `${n} ${'x'.repeat(1000)}`;
    const local = session({
      version: 2,
      updated_at: at(5),
      conversation_history: [1, 2, 3].map((n) => user(long(n), 5, n)),
    });
    const redis = session({
      version: 2,
      updated_at: at(6),
      conversation_history: [4, 5, 6].map((n) => user(long(n), 6, n)),
    });
    const bare = encodeSession('s', { ...redis, conversation_history: [] }, LIMITS).json;
    // Room for the session and about three and a half messages.
    const maxBytes = Buffer.byteLength(bare) + 3500;
    const verdict = mergeRecords('s', local, redis, { ...LIMITS, maxBytes });
    assert.equal(verdict.kind, 'merged');
    if (verdict.kind !== 'merged') return;
    assert.ok(Buffer.byteLength(verdict.value) <= maxBytes);
    assert.equal(verdict.counts.dropped, 3, 'the three oldest');
    assert.deepEqual(
      contents(decodeSession('s', verdict.value)).map((c) => c.split(' ')[0]),
      ['4', '5', '6'],
    );
    // Not even the conversation's state fits: refused, so Redis's value stays.
    assert.throws(
      () => mergeRecords('s', local, redis, { ...LIMITS, maxBytes: 200 }),
      SessionTooLargeError,
    );
  });

  it('opens and seals encrypted sessions with the configured keys', () => {
    const keys = loadConfig({
      env: { SESSION_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
      envFile: false,
    }).encryptionKeys;
    const cipher = new SessionCipher(keys);
    const limits = { ...LIMITS, cipher };
    const seal = (record: SessionRecord) => encodeSession('s', record, limits).json;
    const local = session({
      version: 2,
      updated_at: at(5),
      conversation_history: [...common, user('segredo A', 5)],
    });
    const redis = session({
      version: 2,
      updated_at: at(6),
      conversation_history: [...common, user('segredo B', 6)],
    });
    const verdict = sessionMerge(limits)('s', seal(local), seal(redis));
    assert.ok(verdict.kind === 'merged' && !verdict.value.includes('segredo'), 'sealed again');
    assert.deepEqual(contents(merged(verdict, cipher)).slice(2), ['segredo A', 'segredo B']);
  });

  it('loses no message whatever the two branches did after they parted', () => {
    const turn = fc.record({
      text: fc.string({ maxLength: 8 }),
      gap: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(turn, { maxLength: 6 }), fc.array(turn, { maxLength: 6 }), (a, b) => {
        // Each branch's turns in its own time order, from the moment they parted.
        const branch = (turns: typeof a, tag: string) => {
          let ms = 0;
          return turns.flatMap(({ text, gap }, i) => {
            ms += gap;
            return [user(`${tag}${i} ${text}`, 1, ms), reply(`${tag}${i} resposta`, 1, ms)];
          });
        };
        const local = session({
          version: 5,
          updated_at: at(2),
          conversation_history: [...common, ...branch(a, 'A')],
        });
        const redis = session({
          version: 5,
          updated_at: at(3),
          conversation_history: [...common, ...branch(b, 'B')],
        });
        const verdict = mergeRecords('s', local, redis, LIMITS);
        const history =
          verdict.kind === 'merged'
            ? decodeSession('s', verdict.value).conversation_history
            : verdict.kind === 'redis'
              ? redis.conversation_history
              : local.conversation_history;
        const expected = [...common, ...branch(a, 'A'), ...branch(b, 'B')].map((m) => m.content);
        assert.deepEqual(history.map((m) => m.content).sort(), expected.sort());
        const times = history.map((m) => Date.parse(m.at));
        assert.deepEqual(
          times,
          [...times].sort((x, y) => x - y),
          'in time order',
        );
      }),
    );
  });
});

describe('planning a write-back', () => {
  const value = (record: Partial<SessionRecord>) =>
    encodeSession('s', session(record), LIMITS).json;

  it('writes over nothing when Redis holds nothing, and nothing when it holds the same value', () => {
    const local = value({ version: 2 });
    assert.deepEqual(planWriteBack('s', local, null).plan, {
      action: 'write',
      value: local,
      range: { min: 0, max: 0 },
      kind: 'local',
    });
    assert.deepEqual(planWriteBack('s', local, local).plan, { action: 'none' });
  });

  it('moves an unreadable Redis value aside first, and never writes an unreadable copy over one', () => {
    assert.deepEqual(planWriteBack('s', value({}), 'not json').plan, { action: 'set_aside' });
    assert.deepEqual(planWriteBack('s', value({}), '').plan, { action: 'set_aside' });
    assert.deepEqual(planWriteBack('s', 'not json', value({})).plan, {
      action: 'keep_redis',
      reason: 'unreadable_local',
    });
  });

  it('without a merge, the higher version wins (on a tie, Redis), compare-and-set on what was read', () => {
    const higher = value({ version: 5 });
    assert.deepEqual(planWriteBack('s', higher, value({ version: 4 })).plan, {
      action: 'write',
      value: higher,
      range: { min: 4, max: 4, createdAt: at(0) },
      kind: 'local',
    });
    assert.deepEqual(
      planWriteBack('s', value({ version: 4 }), value({ version: 4, topic: 'x' })).plan,
      {
        action: 'keep_redis',
        reason: 'newer_version',
      },
    );
  });

  it('uses the merge, and falls back to the versions (saying why) when it cannot read a value', () => {
    const merge = sessionMerge(LIMITS);
    const local = value({
      version: 3,
      updated_at: at(5),
      conversation_history: [...common, user('A', 5)],
    });
    const redis = value({
      version: 3,
      updated_at: at(6),
      conversation_history: [...common, user('B', 6)],
    });
    const planned = planWriteBack('s', local, redis, merge);
    assert.equal(planned.plan.action === 'write' && planned.plan.kind, 'merged');
    assert.deepEqual(planned.plan.action === 'write' && planned.plan.range, {
      min: 3,
      max: 3,
      createdAt: at(0),
    });
    const failing = () => {
      throw new SessionCorruptError(
        's',
        'encrypted with key 7, but no SESSION_ENCRYPTION_KEY is configured',
      );
    };
    const fallback = planWriteBack('s', local, redis, failing);
    assert.deepEqual(fallback.plan, { action: 'keep_redis', reason: 'newer_version' });
    assert.match(fallback.mergeFailure ?? '', /encrypted with key 7/);
  });

  it('replaces an older session under the id only with a newer creation', () => {
    const merge = sessionMerge(LIMITS);
    const old = value({ version: 6 });
    const reborn = value({ version: 1, created_at: at(20), updated_at: at(20) });
    assert.equal(planWriteBack('s', reborn, old, merge).plan.action === 'write', true);
    assert.deepEqual(planWriteBack('s', old, reborn, merge).plan, {
      action: 'keep_redis',
      reason: 'newer_creation',
    });
  });
});
