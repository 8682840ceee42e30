import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { loadConfig } from '../src/config.js';
import { cipherFor, SessionCipher, sealedJson } from '../src/sessions/cipher.js';
import {
  decodeHead,
  decodeSession,
  encodeSession,
  type SessionRecord,
} from '../src/sessions/codec.js';
import { SessionCorruptError } from '../src/sessions/errors.js';
import { openStore } from '../src/sessions/open-store.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { importSessions } from '../src/sessions/transfer.js';
import {
  captureLogs,
  configProblems,
  openManager,
  testConfig,
  testResponder,
} from './support/fixtures.js';

const newKey = () => randomBytes(32).toString('base64');
const keysOf = (...keys: string[]) =>
  loadConfig({ env: { SESSION_ENCRYPTION_KEYS: keys.join(',') }, envFile: false }).encryptionKeys;

const SECRET = 'a torneira da cozinha está pingando desde ontem';
const record: SessionRecord = {
  schema_version: 1,
  version: 3,
  state: 'waiting_feedback',
  current_attempt: 2,
  max_attempts: 3,
  use_rag: true,
  use_web_search: false,
  created_at: '2026-01-01T10:00:00.000Z',
  updated_at: '2026-01-01T10:05:00.000Z',
  reset_at: null,
  token_sha256: null,
  topic: null,
  problem: SECRET,
  conversation_history: [
    { role: 'user', content: SECRET, at: '2026-01-01T10:00:00.000Z' },
    { role: 'assistant', content: 'Feche o registro.', at: '2026-01-01T10:00:01.000Z' },
  ],
};
const limits = { maxHistoryMessages: 100, maxBytes: 262144 };

async function* iterate(lines: string[]) {
  yield* lines;
}

describe('encryption at rest', () => {
  const [one, two] = [newKey(), newKey()];
  const cipher = new SessionCipher(keysOf(one));

  it('round-trips a session, and the stored value holds no word of the conversation', () => {
    const { json } = encodeSession('s1', record, { ...limits, cipher });
    assert.ok(!json.includes('torneira'), json);
    assert.ok(!json.includes('registro'), json);
    assert.ok(!json.includes('conversation_history'));
    assert.deepEqual(decodeSession('s1', json, cipher), record);
  });

  it('keeps the head readable for listings and for compare-and-set', () => {
    const { json } = encodeSession('s1', record, { ...limits, cipher });
    assert.match(json, /^\{"schema_version":1,"version":3,"state":"waiting_feedback",/);
    const head = decodeHead('s1', json.slice(0, 512));
    assert.equal(head?.state, 'waiting_feedback');
    assert.equal(head?.current_attempt, 2);
    assert.equal(head?.version, 3);
  });

  it('writes each value with a fresh nonce', () => {
    const a = encodeSession('s1', record, { ...limits, cipher }).json;
    const b = encodeSession('s1', record, { ...limits, cipher }).json;
    assert.notEqual(a, b);
  });

  it('reads with an old key during a rotation and writes with the first one', () => {
    const old = encodeSession('s1', record, { ...limits, cipher }).json;
    const rotated = new SessionCipher(keysOf(two, one));
    assert.deepEqual(decodeSession('s1', old, rotated), record);
    const rewritten = encodeSession('s1', record, { ...limits, cipher: rotated }).json;
    const kid = (json: string) => (JSON.parse(json) as { sealed: { kid: string } }).sealed.kid;
    assert.equal(kid(rewritten), rotated.keyId);
    assert.notEqual(kid(rewritten), kid(old));
    // Once the old key is gone, what it wrote cannot be read; what the new one wrote can.
    const newOnly = new SessionCipher(keysOf(two));
    assert.deepEqual(decodeSession('s1', rewritten, newOnly), record);
    assert.throws(
      () => decodeSession('s1', old, newOnly),
      (error) =>
        error instanceof SessionCorruptError &&
        error.message.includes(`key ${kid(old)}`) &&
        error.message.includes('not among the configured keys'),
    );
  });

  it('refuses an encrypted value when no key is configured', () => {
    const { json } = encodeSession('s1', record, { ...limits, cipher });
    assert.throws(() => decodeSession('s1', json), /no SESSION_ENCRYPTION_KEY is configured/);
  });

  it('detects a tampered ciphertext, a tampered head, and a value moved to another session', () => {
    const { json } = encodeSession('s1', record, { ...limits, cipher });
    const stored = JSON.parse(json) as { sealed: { data: string }; state: string };
    const data = Buffer.from(stored.sealed.data, 'base64');
    data[0] = (data[0] ?? 0) ^ 1;
    const flipped = JSON.stringify({
      ...stored,
      sealed: { ...stored.sealed, data: data.toString('base64') },
    });
    assert.throws(() => decodeSession('s1', flipped, cipher), /fails authentication/);
    const promoted = json.replace('"state":"waiting_feedback"', '"state":"resolved"');
    assert.throws(() => decodeSession('s1', promoted, cipher), /fails authentication/);
    assert.throws(() => decodeSession('s2', json, cipher), /fails authentication/);
    // Base64 decoding skips other characters: a stray quote (the value is then not even JSON)
    // must not slip through.
    const quoted = json.replace(/"data":"(.)/, '"data":"$1"');
    assert.throws(() => decodeSession('s1', quoted, cipher), SessionCorruptError);
    const escaped = json.replace(/"data":"(.)/, '"data":"$1\\"');
    assert.throws(() => decodeSession('s1', escaped, cipher), /base64/);
    const truncated = JSON.stringify({ ...stored, sealed: { ...stored.sealed, tag: 'AAAA' } });
    assert.throws(() => decodeSession('s1', truncated, cipher), /malformed nonce or tag/);
  });

  it('still reads values written before encryption was turned on', () => {
    const { json } = encodeSession('s1', record, limits);
    assert.deepEqual(decodeSession('s1', json, cipher), record);
  });

  it('encrypts Latin-1 text one byte per character and other text as UTF-8', () => {
    const charset = (json: string) =>
      (JSON.parse(json) as { sealed: { charset?: string } }).sealed.charset;
    const portuguese = encodeSession('s1', record, { ...limits, cipher }).json;
    assert.equal(charset(portuguese), 'latin1');
    const beyond: SessionRecord = {
      ...record,
      conversation_history: [
        ...record.conversation_history,
        { role: 'user', content: 'Resolvido “de vez” 👍 — obrigado', at: record.updated_at },
      ],
    };
    const emoji = encodeSession('s1', beyond, { ...limits, cipher }).json;
    assert.equal(charset(emoji), 'utf8');
    assert.deepEqual(decodeSession('s1', portuguese, cipher), record);
    assert.deepEqual(decodeSession('s1', emoji, cipher), beyond);
    // The charset is authenticated: read the other way, the same bytes would be other text.
    for (const [json, other] of [
      [portuguese, 'utf8'],
      [emoji, 'latin1'],
    ] as const) {
      const swapped = json.replace(/"charset":"[a-z0-9]+"/, `"charset":"${other}"`);
      assert.throws(() => decodeSession('s1', swapped, cipher), /fails authentication/);
      const dropped = json.replace(/"charset":"[a-z0-9]+",/, '');
      assert.throws(() => decodeSession('s1', dropped, cipher), /fails authentication/);
    }
  });

  it('chooses Latin-1 up to U+00FF, UTF-8 from U+0100, and keeps lone surrogates', () => {
    const charsetOf = (content: string) => {
      const value: SessionRecord = {
        ...record,
        conversation_history: [{ role: 'user', content, at: record.created_at }],
      };
      const { json } = encodeSession('s1', value, { ...limits, cipher });
      assert.deepEqual(decodeSession('s1', json, cipher), value, content);
      return (JSON.parse(json) as { sealed: { charset: string } }).sealed.charset;
    };
    assert.equal(charsetOf('preço ÿ'), 'latin1');
    assert.equal(charsetOf('preço Ā'), 'utf8');
    // JSON.stringify writes a lone surrogate as an escape: plain ASCII.
    assert.equal(charsetOf('meio \ud800 par'), 'latin1');
  });

  it('refuses base64 whose padding was replaced, and reads odd bodies as the general path does', () => {
    // A conversation whose ciphertext needs padding.
    const padded = [0, 1, 2]
      .map(
        (n) =>
          encodeSession(
            's1',
            { ...record, problem: `${SECRET}${'!'.repeat(n)}` },
            {
              ...limits,
              cipher,
            },
          ).json,
      )
      .find((json) => json.endsWith('="}}'));
    assert.ok(padded);
    const junk = padded.replace(/="\}\}$/, '""}}');
    assert.throws(() => decodeSession('s1', junk, cipher), /not plain base64/);
    // Bodies no writer produces, sealed with the right key: judged on what they hold.
    const head = padded.slice(0, padded.indexOf(',"sealed":'));
    const sealedWith = (body: string) =>
      `${head},"sealed":${sealedJson(cipher.seal('s1', `${head}}`, body))}}`;
    const body = JSON.stringify({
      problem: record.problem,
      conversation_history: record.conversation_history,
    });
    assert.deepEqual(decodeSession('s1', sealedWith(`  ${body}`), cipher), record);
    assert.throws(
      () => decodeSession('s1', sealedWith('{}'), cipher),
      (error) =>
        error instanceof SessionCorruptError && /problem|conversation_history/.test(error.message),
    );
  });

  it('reads encrypted values that have no charset field, which are UTF-8', () => {
    // A value as the first encrypted format wrote it: UTF-8, and no charset in the additional
    // data.
    const encoded = encodeSession('s1', record, limits).json;
    const at = encoded.indexOf(',"problem":');
    const head = `${encoded.slice(0, at)}}`;
    const [key] = keysOf(one);
    assert.ok(key);
    const iv = randomBytes(12);
    const writer = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: 16 });
    writer.setAAD(Buffer.from(`s1\n${head}`, 'utf8'));
    const data =
      writer.update(`{${encoded.slice(at + 1)}`, 'utf8', 'base64') + writer.final('base64');
    const sealed = `{"alg":"A256GCM","kid":"${key.id}","iv":"${iv.toString('base64')}","tag":"${writer.getAuthTag().toString('base64')}","data":"${data}"}`;
    const older = `${encoded.slice(0, at)},"sealed":${sealed}}`;
    assert.deepEqual(decodeSession('s1', older, cipher), record);
    // Not in the canonical layout (keys reordered): the general path reads it too.
    const reordered = JSON.stringify({ sealed: JSON.parse(sealed), ...JSON.parse(head) });
    assert.deepEqual(decodeSession('s1', reordered, cipher), record);
  });
});

describe('encryption through the SessionManager', () => {
  const key = newKey();

  async function open(env: Record<string, string>, store = new MemorySessionStore()) {
    const logs = captureLogs('info');
    const manager = await openManager({
      config: testConfig(env),
      store,
      logger: logs.logger,
      responder: await testResponder(),
    });
    return { manager, store, logs };
  }

  it('stores sessions encrypted, lists them, and re-encrypts clear ones on their next save', async () => {
    const store = new MemorySessionStore();
    const clear = await open({}, store);
    await clear.manager.withSession('old', (agent) => agent.chat('a torneira pinga'));
    assert.match((await store.get('old')) ?? '', /torneira/);

    const { manager } = await open({ SESSION_ENCRYPTION_KEY: key }, store);
    await manager.withSession('new', (agent) => agent.chat('o chuveiro não esquenta'));
    assert.ok(!((await store.get('new')) ?? '').includes('chuveiro'));
    await manager.withSession('old', (agent) => agent.chat('não'));
    const old = (await store.get('old')) ?? '';
    assert.ok(!old.includes('torneira'), 'rewritten encrypted');
    assert.equal((await manager.getAgent('old'))?.conversationHistory.length, 4);
    const listed = await manager.listSessions();
    assert.deepEqual(
      listed.map((s) => [s.sessionId, s.state, s.currentAttempt]),
      [
        ['new', 'waiting_feedback', 1],
        ['old', 'waiting_feedback', 2],
      ],
    );
    await manager.close();
  });

  it('quarantines a session whose key is no longer configured and starts a new one', async () => {
    const store = new MemorySessionStore();
    const before = await open({ SESSION_ENCRYPTION_KEY: key }, store);
    await before.manager.withSession('lost', (agent) => agent.chat('a torneira pinga'));
    const written = await store.get('lost');

    const { manager, logs } = await open({ SESSION_ENCRYPTION_KEY: newKey() }, store);
    const agent = await manager.getOrCreateAgent('lost');
    assert.equal(agent.state, 'new_problem');
    assert.equal(store.quarantined('lost'), written, 'kept, still encrypted, for inspection');
    const corrupt = logs.records().find((r) => r.event_type === 'session_corrupt');
    assert.match(String(corrupt?.reason), /not among the configured keys/);
    await manager.close();
  });

  it('keeps a copy of snapshot lines it cannot read instead of losing them at shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-snapshot-'));
    const path = join(dir, 'sessions.jsonl');
    try {
      const open = async (env: Record<string, string>) => {
        const config = testConfig({ MEMORY_SNAPSHOT_PATH: path, ...env });
        return openManager({
          config,
          store: await openStore(config, captureLogs().logger),
          logger: captureLogs().logger,
          responder: await testResponder(),
        });
      };
      const first = await open({ SESSION_ENCRYPTION_KEY: key });
      await first.withSession('guardada', (agent) => agent.chat('a torneira pinga'));
      await first.close();
      const written = readFileSync(path, 'utf8');
      assert.ok(written.includes('"sealed"') && !written.includes('torneira'));

      const second = await open({ SESSION_ENCRYPTION_KEY: newKey() });
      assert.equal(await second.getAgent('guardada'), null);
      await second.close();
      const copies = readdirSync(dir).filter((name) => name.includes('.unread-'));
      assert.equal(copies.length, 1);
      assert.equal(readFileSync(join(dir, copies[0] ?? ''), 'utf8'), written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exports encrypted sessions still encrypted, and imports them with the key', async () => {
    const store = new MemorySessionStore();
    const { manager } = await open({ SESSION_ENCRYPTION_KEY: key }, store);
    const cipher = cipherFor(testConfig({ SESSION_ENCRYPTION_KEY: key }).encryptionKeys);
    await manager.withSession('backup', (agent) => agent.chat('a torneira pinga'));
    const lines: string[] = [];
    for await (const line of manager.export()) {
      lines.push(JSON.stringify(line));
    }
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes('torneira'), 'the backup is encrypted too');

    const target = new MemorySessionStore();
    const withoutKey = await importSessions(target, iterate(lines), { ...limits, defaultTtl: 60 });
    assert.equal(withoutKey.imported, 0);
    assert.match(withoutKey.failed[0]?.reason ?? '', /no SESSION_ENCRYPTION_KEY/);
    const withKey = await importSessions(target, iterate(lines), {
      ...limits,
      defaultTtl: 60,
      cipher,
    });
    assert.equal(withKey.imported, 1);
    const restored = decodeSession('backup', (await target.get('backup')) ?? '', cipher);
    assert.equal(restored.conversation_history[0]?.content, 'a torneira pinga');
    await manager.close();
  });
});

describe('encryption settings', () => {
  it('takes one key, or a list whose first key writes', () => {
    const [a, b] = [newKey(), newKey()];
    assert.equal(loadConfig({ env: {}, envFile: false }).encryptionKeys.length, 0);
    assert.equal(
      loadConfig({ env: { SESSION_ENCRYPTION_KEY: a }, envFile: false }).encryptionKeys.length,
      1,
    );
    const keys = keysOf(b, a);
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0]?.key, Buffer.from(b, 'base64'));
    assert.match(keys[0]?.id ?? '', /^[0-9a-f]{8}$/);
  });

  it('refuses a key that is not 32 bytes of base64, without showing it', () => {
    const short = randomBytes(16).toString('base64');
    const message = configProblems({ SESSION_ENCRYPTION_KEY: short });
    assert.match(
      message,
      /SESSION_ENCRYPTION_KEY deve ter 32 bytes em base64, como os gerados por `openssl rand -base64 32` \(recebido "\*\*\*"\)/,
    );
    assert.ok(!message.includes(short));
    assert.match(
      configProblems({ SESSION_ENCRYPTION_KEYS: `${newKey()},nope` }),
      /SESSION_ENCRYPTION_KEYS/,
    );
  });

  it('refuses both variables at once', () => {
    assert.match(
      configProblems({ SESSION_ENCRYPTION_KEY: newKey(), SESSION_ENCRYPTION_KEYS: newKey() }),
      /SESSION_ENCRYPTION_KEY e SESSION_ENCRYPTION_KEYS não podem ser definidas juntas/,
    );
  });

  it('never shows a key in the configuration printed or logged', () => {
    const key = newKey();
    const config = loadConfig({ env: { SESSION_ENCRYPTION_KEY: key }, envFile: false });
    const hex = Buffer.from(key, 'base64').toString('hex');
    for (const text of [String(config), JSON.stringify(config), inspect(config, { depth: 9 })]) {
      assert.ok(!text.includes(key) && !text.includes(hex), text);
      assert.ok(text.includes(config.encryptionKeys[0]?.id ?? '?'));
    }
  });
});
