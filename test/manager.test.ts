import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { decodeSession } from '../src/sessions/codec.js';
import {
  InvalidSessionIdError,
  SessionConflictError,
  SessionTooLargeError,
} from '../src/sessions/errors.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import type { SessionStore } from '../src/sessions/types.js';
import { captureLogs, openManager, testConfig, testResponder } from './support/fixtures.js';

async function managerWith<S extends SessionStore = MemorySessionStore>(
  env: Record<string, string> = {},
  store: S = new MemorySessionStore() as SessionStore as S,
) {
  const logs = captureLogs();
  let clock = Date.parse('2025-10-26T10:30:00.000Z');
  const manager = await openManager({
    config: testConfig(env),
    logger: logs.logger,
    store,
    responder: await testResponder(),
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
  });
  return { manager, store, logs };
}

/** Counts calls that reach the store. */
function spyStore(inner: SessionStore) {
  const calls: string[] = [];
  const spy = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { spy, calls };
}

const HOSTILE_IDS = [
  '*',
  '../x',
  'a b',
  'a'.repeat(129),
  'x'.repeat(10240),
  '',
  'cql:session:*',
  'id\u0000',
  'ação',
];

describe('SessionManager', () => {
  it('starts on memory when Redis is not enabled, and says so', async () => {
    const logs = captureLogs();
    const manager = await openManager({
      config: testConfig(),
      logger: logs.logger,
      responder: await testResponder(),
    });
    assert.equal(manager.backend, 'memory');
    const line = logs.records().find((r) => r.event_type === 'memory_store_selected');
    assert.equal(line?.level, 'INFO');
    await manager.close();
  });

  it('rejects hostile session ids before any store is touched', async () => {
    const { spy, calls } = spyStore(new MemorySessionStore());
    const { manager } = await managerWith({}, spy);
    const agent = await manager.getOrCreateAgent('fine');
    calls.length = 0;
    for (const id of HOSTILE_IDS) {
      for (const call of [
        () => manager.getOrCreateAgent(id),
        () => manager.updateAgent(id, agent),
        () => manager.deleteSession(id),
        () => manager.getTtl(id),
      ]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof InvalidSessionIdError);
          assert.equal(error.code, 'ERR_INVALID_SESSION_ID');
          assert.ok(error.message.length < 250, 'a 10 KB id is not echoed whole');
          return true;
        });
      }
    }
    assert.deepEqual(calls, []);
    await manager.close();
  });

  it('creates a session (version 1) and logs it in the documented shape', async () => {
    const { manager, store, logs } = await managerWith();
    const agent = await manager.getOrCreateAgent('user-123', { useRag: true, useWebSearch: false });
    assert.equal(agent.state, 'new_problem');
    assert.equal(agent.useWebSearch, false);
    const stored = decodeSession('user-123', (await store.get('user-123')) ?? '');
    assert.equal(stored.version, 1);
    assert.equal(stored.created_at, stored.updated_at);
    assert.equal(stored.use_web_search, false);
    const line = logs.records().find((r) => r.event_type === 'agent_created');
    assert.deepEqual(
      { ...line, timestamp: undefined },
      {
        timestamp: undefined,
        level: 'INFO',
        logger: 'sessions.manager',
        component: 'session',
        message: 'Criando novo agente',
        session_id: 'user-123',
        use_rag: true,
        use_web_search: false,
        event_type: 'agent_created',
      },
    );
    await manager.close();
  });

  it('increments the version on every save and keeps created_at', async () => {
    const { manager, store } = await managerWith();
    const agent = await manager.getOrCreateAgent('s');
    await agent.chat('a torneira está pingando');
    await manager.updateAgent('s', agent);
    await agent.chat('não');
    await manager.updateAgent('s', agent);
    const stored = decodeSession('s', (await store.get('s')) ?? '');
    assert.equal(stored.version, 3);
    assert.ok(stored.updated_at > stored.created_at);
    const reloaded = await manager.getOrCreateAgent('s');
    await manager.updateAgent('s', reloaded);
    assert.equal(decodeSession('s', (await store.get('s')) ?? '').version, 4);
    assert.equal(decodeSession('s', (await store.get('s')) ?? '').created_at, stored.created_at);
  });

  it('continues the stored version when saving an agent it did not load', async () => {
    const { manager, store } = await managerWith();
    const loaded = await manager.getOrCreateAgent('elsewhere');
    await manager.updateAgent('elsewhere', loaded);
    const created = decodeSession('elsewhere', (await store.get('elsewhere')) ?? '').created_at;
    const fresh = new RepairAgent({ responder: await testResponder() });
    await manager.updateAgent('elsewhere', fresh);
    const stored = decodeSession('elsewhere', (await store.get('elsewhere')) ?? '');
    assert.equal(stored.version, 3);
    assert.equal(stored.created_at, created);
  });

  it('continues a conversation across loads, with its history and state', async () => {
    const { manager } = await managerWith();
    const first = await manager.getOrCreateAgent('conv');
    await first.chat('o chuveiro não esquenta');
    await manager.updateAgent('conv', first);
    const second = await manager.getOrCreateAgent('conv');
    const reply = await second.chat('não');
    assert.match(reply, /tentativa 2 de 3/);
    await manager.updateAgent('conv', second);
    const third = await manager.getOrCreateAgent('conv');
    assert.equal(third.currentAttempt, 2);
    assert.equal(third.conversationHistory.length, 4);
  });

  it('lets a load override the flags of an existing session, and keeps them otherwise', async () => {
    const { manager } = await managerWith();
    await manager.getOrCreateAgent('flags', { useRag: false });
    assert.equal((await manager.getOrCreateAgent('flags')).useRag, false);
    assert.equal((await manager.getOrCreateAgent('flags', { useRag: true })).useRag, true);
  });

  it('withSession runs the work and saves it once, so it cannot be left unsaved', async () => {
    const { manager, store } = await managerWith();
    const reply = await manager.withSession('ws', (agent) =>
      agent.chat('a torneira está pingando'),
    );
    assert.match(reply, /Torneira/);
    const stored = decodeSession('ws', (await store.get('ws')) ?? '');
    assert.equal(stored.version, 1);
    assert.equal(stored.conversation_history.length, 2);
    await manager.withSession('ws', (agent) => agent.chat('não'));
    assert.equal(decodeSession('ws', (await store.get('ws')) ?? '').version, 2);
  });

  it('runs concurrent turns on one session one after the other, each exactly once', async () => {
    const { manager } = await managerWith();
    await manager.withSession('fila', (agent) => agent.chat('a torneira está pingando'));
    let runs = 0;
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        manager.withSession('fila', async (agent) => {
          runs++;
          most = Math.max(most, ++inside);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inside--;
          return agent.chat(`talvez ${i}`);
        }),
      ),
    );
    assert.equal(runs, 10, 'no turn ran twice');
    assert.equal(most, 1, 'never two at once');
    assert.equal((await manager.getAgent('fila'))?.conversationHistory.length, 22);
    // Other sessions are not held up, and a failed turn does not block the next one.
    await assert.rejects(
      manager.withSession('fila', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    await manager.withSession('fila', (agent) => agent.chat('talvez'));
  });

  it('refuses a stale save with SessionConflictError instead of overwriting', async () => {
    const { manager, store } = await managerWith();
    await manager.withSession('stale', (agent) => agent.chat('a torneira está pingando'));
    const first = await manager.getAgent('stale');
    const second = await manager.getAgent('stale');
    assert.ok(first && second);
    await first.chat('não');
    await manager.updateAgent('stale', first);
    await second.chat('sim');
    await assert.rejects(manager.updateAgent('stale', second), (error: unknown) => {
      assert.ok(error instanceof SessionConflictError);
      assert.equal(error.code, 'ERR_SESSION_CONFLICT');
      assert.equal(error.expectedVersion, 1);
      assert.equal(error.storedVersion, 2);
      return true;
    });
    const stored = decodeSession('stale', (await store.get('stale')) ?? '');
    assert.equal(stored.current_attempt, 2, 'the first save was kept');
  });

  it('refuses a save over a session deleted and created again, even at the same version', async () => {
    const { manager } = await managerWith();
    await manager.withSession('aba', (agent) => agent.chat('a torneira está pingando'));
    const stale = await manager.getAgent('aba');
    assert.ok(stale);
    await manager.deleteSession('aba');
    await manager.withSession('aba', (agent) => agent.chat('a geladeira não gela')); // version 1 again
    await stale.chat('não');
    await assert.rejects(manager.updateAgent('aba', stale), SessionConflictError);
    assert.match((await manager.getSession('aba'))?.record.problem ?? '', /geladeira/);
  });

  it('withSession saves nothing when the work fails', async () => {
    const { manager, store } = await managerWith();
    await assert.rejects(
      manager.withSession('failing', async (agent) => {
        await agent.chat('a torneira está pingando');
        throw new Error('stop');
      }),
      /stop/,
    );
    assert.equal(await store.exists('failing'), false);
  });

  it('withSession keeps both turns when two callers create the same session at once', async () => {
    const { manager, store } = await managerWith();
    await Promise.all([
      manager.withSession('both', (agent) => agent.chat('a torneira está pingando')),
      manager.withSession('both', (agent) => agent.chat('a pia está entupida')),
    ]);
    const stored = decodeSession('both', (await store.get('both')) ?? '');
    assert.equal(
      stored.conversation_history.length,
      4,
      'the second creator ran again on the first one',
    );
    assert.equal(stored.version, 2);
  });

  it('uses MAX_ATTEMPTS for new sessions', async () => {
    const { manager } = await managerWith({ MAX_ATTEMPTS: '5' });
    assert.equal((await manager.getOrCreateAgent('m')).maxAttempts, 5);
  });

  it('trims the stored history to MAX_HISTORY_MESSAGES, oldest first', async () => {
    const { manager, store } = await managerWith({ MAX_HISTORY_MESSAGES: '4' });
    const agent = await manager.getOrCreateAgent('trim');
    for (const text of ['a porta está rangendo', 'talvez', 'não']) await agent.chat(text);
    await manager.updateAgent('trim', agent);
    const stored = decodeSession('trim', (await store.get('trim')) ?? '');
    assert.deepEqual(
      stored.conversation_history.map((m) => m.content.slice(0, 6)),
      ['talvez', 'Descul', 'não', 'Entend'],
    );
  });

  it('refuses a session over SESSION_MAX_BYTES and leaves the stored one as it was', async () => {
    const { manager, store } = await managerWith({ SESSION_MAX_BYTES: '4096' });
    const agent = await manager.getOrCreateAgent('big');
    const before = await store.get('big');
    await agent.chat(`a torneira está pingando ${'muito '.repeat(1000)}`);
    await assert.rejects(manager.updateAgent('big', agent), SessionTooLargeError);
    assert.equal(await store.get('big'), before);
  });

  it('quarantines a corrupt value, logs it, and starts a fresh session instead', async () => {
    const { manager, store, logs } = await managerWith();
    await store.set('broken', '{"schema_version":1, nope', 60);
    const agent = await manager.getOrCreateAgent('broken');
    assert.equal(agent.state, 'new_problem');
    assert.equal(agent.conversationHistory.length, 0);
    assert.equal(store.quarantined('broken'), '{"schema_version":1, nope', 'kept for inspection');
    assert.equal(decodeSession('broken', (await store.get('broken')) ?? '').version, 1);
    const line = logs.records().find((r) => r.event_type === 'session_corrupt');
    assert.equal(line?.level, 'ERROR');
    assert.equal(line?.session_id, 'broken');
    assert.equal(line?.quarantined_as, 'memory:corrupt:broken');
    assert.equal(line?.quarantine, 'moved');
  });

  it('lists readable sessions, skipping corrupt ones, reading non-canonical ones whole', async () => {
    const { manager, store, logs } = await managerWith({ SESSION_TTL: '600' });
    const good = await manager.getOrCreateAgent('good');
    await good.chat('a torneira está pingando');
    await manager.updateAgent('good', good);
    const canonical = (await store.get('good')) ?? '';
    const reordered = JSON.stringify({
      problem: null,
      ...JSON.parse(canonical),
      state: 'resolved',
    });
    await store.set('by-hand', reordered, 600);
    await store.set('garbage', 'not json', 600);
    await store.set('future', '{"schema_version":99}', 600);
    const sessions = await manager.listSessions();
    assert.deepEqual(
      sessions.map(({ sessionId, state, currentAttempt, ttl }) => ({
        sessionId,
        state,
        currentAttempt,
        ttl,
      })),
      [
        { sessionId: 'by-hand', state: 'resolved', currentAttempt: 1, ttl: 600 },
        { sessionId: 'good', state: 'waiting_feedback', currentAttempt: 1, ttl: 600 },
      ],
    );
    assert.ok(sessions.every((session) => !Number.isNaN(Date.parse(session.updatedAt))));
    const corrupt = logs
      .records()
      .filter((r) => r.event_type === 'session_corrupt')
      .map((r) => r.session_id);
    assert.deepEqual(corrupt.sort(), ['future', 'garbage']);
  });

  it('lists a session whose head is sound and finds the damage further on when it is loaded', async () => {
    const { manager, store } = await managerWith();
    const agent = await manager.getOrCreateAgent('damaged');
    await agent.chat('a torneira está pingando');
    await manager.updateAgent('damaged', agent);
    const raw = (await store.get('damaged')) ?? '';
    await store.set('damaged', raw.replace('"role":"assistant"', '"role":"robot"'), 600);
    assert.deepEqual(
      (await manager.listSessions()).map((s) => s.sessionId),
      ['damaged'],
    );
    assert.equal((await manager.getOrCreateAgent('damaged')).conversationHistory.length, 0);
    assert.match(store.quarantined('damaged') ?? '', /"role":"robot"/);
  });

  it('lists at most `limit` sessions', async () => {
    const { manager } = await managerWith();
    for (let i = 0; i < 5; i++) await manager.getOrCreateAgent(`s${i}`);
    assert.equal((await manager.listSessions({ limit: 3 })).length, 3);
    assert.equal((await manager.listSessions()).length, 5);
  });

  it('reports the TTL of a session, and 0 for a missing one', async () => {
    const { manager } = await managerWith({ SESSION_TTL: '1800' });
    await manager.getOrCreateAgent('t');
    assert.equal(await manager.getTtl('t'), 1800);
    assert.equal(await manager.getTtl('missing'), 0);
  });
});
