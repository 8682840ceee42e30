/** The memory store's snapshot file while the service runs (MEMORY_SNAPSHOT_INTERVAL). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../src/config.js';
import { openStore } from '../src/sessions/open-store.js';
import { SnapshottedMemoryStore } from '../src/sessions/snapshot.js';
import { FILE_KINDS } from '../src/texts/cli.js';
import { CONTRACT_MAX_VALUE_BYTES, runStoreContract } from './store-contract.js';
import {
  captureLogs,
  configProblems,
  openManager,
  storedRecord,
  testConfig,
  testResponder,
} from './support/fixtures.js';
import { until } from './support/until.js';

describe('snapshotted memory store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cql-snapshot-contract-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  /** The contract's clock: moved by its expiry tests, never slept on. */
  let clock = Date.parse('2025-01-01T00:00:00.000Z');
  runStoreContract('snapshotted memory', {
    open: async () => {
      const store = new SnapshottedMemoryStore(join(dir, `sessions-${++files}.jsonl`), {
        maxValueBytes: CONTRACT_MAX_VALUE_BYTES,
        logger: captureLogs('silent').logger,
        now: () => clock,
      });
      await store.load({
        defaultTtl: 900,
        maxHistoryMessages: 100,
        maxBytes: CONTRACT_MAX_VALUE_BYTES,
      });
      return store;
    },
    advanceClock: (ms) => {
      clock += ms;
    },
  });
});

describe('memory snapshot', () => {
  const open = async (env: Record<string, string>) => {
    const config = testConfig(env);
    const logs = captureLogs('debug');
    const manager = await openManager({
      config,
      store: await openStore(config, logs.logger),
      logger: logs.logger,
      responder: await testResponder(),
    });
    const writes = () => logs.records().filter((r) => r.event_type === 'memory_snapshot_saved');
    return { manager, writes };
  };

  it('is written every MEMORY_SNAPSHOT_INTERVAL seconds while sessions change, so a crash loses at most that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-snapshot-'));
    const path = join(dir, 'sessions.jsonl');
    const holds = (id: string) => existsSync(path) && readFileSync(path, 'utf8').includes(id);
    const running = await open({ MEMORY_SNAPSHOT_PATH: path, MEMORY_SNAPSHOT_INTERVAL: '1' });
    try {
      await running.manager.withSession('antes-da-queda', (agent) => agent.chat('a pia entupiu'));
      await until(() => holds('antes-da-queda'), 'the periodic write', 5000);
      assert.equal(running.writes().length, 1);
      assert.equal(running.writes()[0]?.level, 'DEBUG', 'at debug: not one info line a second');
      await sleep(2200);
      assert.equal(running.writes().length, 1, 'an unchanged store is not written again');

      // The first process is never closed, as in a crash: another one reads what it wrote.
      const after = await open({ MEMORY_SNAPSHOT_PATH: path, MEMORY_SNAPSHOT_INTERVAL: '0' });
      assert.equal((await after.manager.getAgent('antes-da-queda'))?.state, 'waiting_feedback');
      await after.manager.withSession('depois', (agent) => agent.chat('o chuveiro não esquenta'));
      await sleep(1200);
      assert.equal(holds('depois'), false, 'interval 0: only at shutdown');
      await after.manager.close();
      assert.equal(holds('depois'), true);
      assert.equal(after.writes()[0]?.level, 'INFO', 'the write at shutdown is at info');
    } finally {
      await running.manager.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes MEMORY_SNAPSHOT_INTERVAL in whole seconds, 60 by default', () => {
    assert.equal(testConfig({}).memorySnapshotIntervalSeconds, 60);
    assert.equal(testConfig({ MEMORY_SNAPSHOT_INTERVAL: '0' }).memorySnapshotIntervalSeconds, 0);
    for (const value of ['-1', '1.5', 'soon', '86401']) {
      assert.match(
        configProblems({ MEMORY_SNAPSHOT_INTERVAL: value }),
        /MEMORY_SNAPSHOT_INTERVAL deve ser um número inteiro de 0 a 86400/,
        value,
      );
    }
  });

  describe('refuses a MEMORY_SNAPSHOT_PATH that is not a regular file', () => {
    /** The ConfigError of opening the memory store on `path`; fails if it opens. */
    const refusal = async (path: string): Promise<string> => {
      const logs = captureLogs('debug');
      try {
        const store = await openStore(testConfig({ MEMORY_SNAPSHOT_PATH: path }), logs.logger);
        await store.close();
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.problems.length, 1);
        return error.problems[0] ?? '';
      }
      assert.fail(`${path} was accepted`);
    };
    const folder = () => mkdtempSync(join(tmpdir(), 'cql-snapshot-attack-'));

    it('/dev/null: one error naming it a character device, and /dev/null left a device', async () => {
      const problem = await refusal('/dev/null');
      assert.ok(problem.includes('"/dev/null"'), problem);
      assert.ok(problem.includes(FILE_KINDS['character-device'] ?? '?'), problem);
      assert.ok(statSync('/dev/null').isCharacterDevice());
    });

    it('a FIFO: refused at once instead of waiting for a writer, and left a FIFO', async () => {
      const dir = folder();
      try {
        const fifo = join(dir, 'sessions.jsonl');
        execFileSync('mkfifo', ['-m', '0600', fifo]);
        const problem = await refusal(fifo);
        assert.ok(problem.includes(FILE_KINDS.fifo ?? '?'), problem);
        assert.ok(lstatSync(fifo).isFIFO());
        assert.deepEqual(readdirSync(dir), ['sessions.jsonl'], 'no temporary file left');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a symbolic link to a file: refused, and the file it points to unchanged', async () => {
      const dir = folder();
      try {
        const victim = join(dir, 'outro-arquivo');
        writeFileSync(victim, 'conteúdo que não é um snapshot\n', { mode: 0o644 });
        const link = join(dir, 'sessions.jsonl');
        symlinkSync(victim, link);
        const problem = await refusal(link);
        assert.ok(problem.includes(FILE_KINDS.symlink ?? '?'), problem);
        assert.equal(readFileSync(victim, 'utf8'), 'conteúdo que não é um snapshot\n');
        assert.equal(statSync(victim).mode & 0o777, 0o644);
        assert.ok(lstatSync(link).isSymbolicLink());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a directory: refused with a message, not a stack trace at shutdown', async () => {
      const dir = folder();
      try {
        const inside = join(dir, 'sessions.jsonl');
        mkdirSync(inside);
        const problem = await refusal(inside);
        assert.ok(problem.startsWith(`MEMORY_SNAPSHOT_PATH ${JSON.stringify(inside)} `), problem);
        assert.ok(problem.includes(FILE_KINDS.directory ?? '?'), problem);
        assert.doesNotMatch(problem, /\n/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('is written with mode 0600, over an older file that anyone could read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-snapshot-mode-'));
    try {
      const path = join(dir, 'sessions.jsonl');
      writeFileSync(path, '', { mode: 0o644 });
      const logs = captureLogs('debug');
      const store = await openStore(testConfig({ MEMORY_SNAPSHOT_PATH: path }), logs.logger);
      await store.set('guardada', JSON.stringify(storedRecord()), 60);
      await store.close();
      assert.ok(readFileSync(path, 'utf8').includes('"session_id":"guardada"'));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ['sessions.jsonl'], 'no temporary file left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not written through a symbolic link planted after start-up; the write is logged as failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-snapshot-planted-'));
    try {
      const path = join(dir, 'sessions.jsonl');
      const victim = join(dir, 'alvo');
      writeFileSync(victim, 'intocado\n');
      const logs = captureLogs('debug');
      const store = await openStore(testConfig({ MEMORY_SNAPSHOT_PATH: path }), logs.logger);
      await store.set('guardada', JSON.stringify(storedRecord()), 60);
      symlinkSync(victim, path);
      await store.close();
      assert.equal(readFileSync(victim, 'utf8'), 'intocado\n');
      assert.ok(lstatSync(path).isSymbolicLink());
      const failed = logs.records().find((r) => r.event_type === 'memory_snapshot_failed');
      assert.ok(failed, 'the refused write is logged');
      assert.deepEqual(readdirSync(dir).sort(), ['alvo', 'sessions.jsonl']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
