import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { componentLogger } from '../src/logger.js';
import { captureLogs } from './support/fixtures.js';

describe('logger', () => {
  it('writes JSON lines shaped like the documented examples', () => {
    const logs = captureLogs('info');
    componentLogger(logs.logger, 'sessions.manager').info(
      { session_id: 'user-123', event_type: 'agent_created' },
      'Criando novo agente',
    );
    const [line] = logs.records();
    assert.ok(line);
    assert.match(String(line.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(Object.keys(line).sort(), [
      'component',
      'event_type',
      'level',
      'logger',
      'message',
      'session_id',
      'timestamp',
    ]);
    assert.equal(line.level, 'INFO');
    assert.equal(line.logger, 'sessions.manager');
    assert.equal(line.component, 'session');
    assert.equal(line.message, 'Criando novo agente');
  });

  it('names levels as the documented examples do', () => {
    const logs = captureLogs('debug');
    logs.logger.debug('d');
    logs.logger.info('i');
    logs.logger.warn('w');
    logs.logger.error('e');
    logs.logger.fatal('f');
    assert.deepEqual(
      logs.records().map((r) => r.level),
      ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'],
    );
  });

  it('respects the level', () => {
    const logs = captureLogs('warn');
    logs.logger.info('hidden');
    logs.logger.warn('shown');
    assert.deepEqual(
      logs.records().map((r) => r.message),
      ['shown'],
    );
  });

  it('hides password fields even when a caller passes one', () => {
    const logs = captureLogs('info');
    logs.logger.info({ password: 'hunter2', redis: { password: 'hunter3' } }, 'oops');
    assert.doesNotMatch(logs.lines.join('\n'), /hunter2|hunter3/);
  });
});
