/** The memory store's snapshot file while the service runs (MEMORY_SNAPSHOT_INTERVAL). */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager } from '../src/sessions/manager.js';
import { openStore } from '../src/sessions/open-store.js';
import { captureLogs, configProblems, testConfig, testResponder } from './support/fixtures.js';
import { until } from './support/until.js';

describe('memory snapshot', () => {
  const open = async (env: Record<string, string>) => {
    const config = testConfig(env);
    const logs = captureLogs('debug');
    const manager = await SessionManager.create({
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
        /MEMORY_SNAPSHOT_INTERVAL must be a whole number from 0 to 86400/,
        value,
      );
    }
  });
});
