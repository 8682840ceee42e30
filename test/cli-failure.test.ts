import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFailure, detailOf, sessionErrorText } from '../src/cli/failure.js';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  SessionCorruptError,
  StoreFullError,
  StoreUnavailableError,
} from '../src/sessions/errors.js';
import { ERRORS } from '../src/texts/cli.js';

/** The same error with its message reworded: what a person reads must not depend on it. */
function reworded<E extends Error>(error: E): E {
  error.message = 'outra redação, sem dois-pontos';
  return error;
}

describe('a failure as the line a person reads', () => {
  it('takes the reason of a session error from its field, not from its message', () => {
    const corrupt = reworded(new SessionCorruptError('s1', 'expected an object: got 3'));
    assert.equal(
      sessionErrorText(corrupt),
      ERRORS.sessionCorrupt('s1', 'expected an object: got 3'),
    );
    const full = reworded(new StoreFullError('set: s1', 'OOM command not allowed'));
    assert.equal(sessionErrorText(full), ERRORS.storeFull('OOM command not allowed'));
    const down = reworded(new StoreUnavailableError('redis', 'get: s1', 'connect ECONNREFUSED'));
    assert.equal(sessionErrorText(down), ERRORS.storeUnavailable('redis', 'connect ECONNREFUSED'));
    assert.deepEqual(describeFailure(down), {
      message: ERRORS.storeUnavailable('redis', 'connect ECONNREFUSED'),
      exitCode: 2,
    });
  });

  it("gives a store error's own reason, and any other error's message", () => {
    assert.equal(detailOf(new StoreUnavailableError('redis', 'connect: a', 'b: c')), 'b: c');
    assert.equal(detailOf(new Error('algo: quebrou')), 'algo: quebrou');
  });

  it('prints a bad configuration after the Portuguese prefix, every problem on the line', () => {
    let error: unknown;
    try {
      loadConfig({ env: { SESSION_TTL: 'abc', USE_REDIS: 'talvez' }, envFile: false });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(describeFailure(error), {
      message:
        'configuração inválida: USE_REDIS deve ser true ou false (recebido "talvez"); ' +
        'SESSION_TTL deve ser um número inteiro de 1 a 31536000 (recebido "abc")',
      exitCode: 2,
    });
  });
});
