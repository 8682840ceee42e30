import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, redactRedisUrl } from '../src/config.js';
import { configProblems } from './support/fixtures.js';

const load = (env: Record<string, string>) => loadConfig({ env, envFile: false });

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = load({});
    assert.equal(config.useRedis, false);
    assert.equal(config.redis.url, 'redis://localhost:6379/0');
    assert.equal(config.redis.commandTimeoutMs, 500);
    assert.equal(config.sessionTtl, 3600);
    assert.equal(config.keyPrefix, 'cql:session:');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.maxAttempts, 3);
    assert.equal(config.memoryMaxSessions, 10000);
    assert.equal(config.sessionMaxBytes, 262144);
    assert.equal(config.maxHistoryMessages, 100);
  });

  it('is frozen', () => {
    const config = load({});
    assert.throws(() => {
      (config as { sessionTtl: number }).sessionTtl = 1;
    }, TypeError);
    assert.throws(() => {
      (config.redis as { url: string }).url = 'redis://elsewhere';
    }, TypeError);
  });

  it('reads every variable', () => {
    const config = load({
      USE_REDIS: 'true',
      REDIS_HOST: 'cache.internal',
      REDIS_PORT: '6380',
      REDIS_DB: '15',
      REDIS_PASSWORD: 'sua-senha-aqui',
      SESSION_TTL: '1800',
      REDIS_KEY_PREFIX: 'app:s:',
      LOG_LEVEL: 'WARNING',
      MAX_ATTEMPTS: '5',
      MEMORY_MAX_SESSIONS: '50',
      SESSION_MAX_BYTES: '4096',
      MAX_HISTORY_MESSAGES: '10',
      REDIS_COMMAND_TIMEOUT_MS: '250',
      REDIS_CONNECT_TIMEOUT_MS: '750',
    });
    assert.equal(config.useRedis, true);
    assert.equal(config.redis.url, 'redis://:sua-senha-aqui@cache.internal:6380/15');
    assert.equal(config.redis.redactedUrl, 'redis://:***@cache.internal:6380/15');
    assert.equal(config.sessionTtl, 1800);
    assert.equal(config.keyPrefix, 'app:s:');
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.maxAttempts, 5);
    assert.equal(config.memoryMaxSessions, 50);
    assert.equal(config.sessionMaxBytes, 4096);
    assert.equal(config.maxHistoryMessages, 10);
    assert.equal(config.redis.commandTimeoutMs, 250);
    assert.equal(config.redis.connectTimeoutMs, 750);
  });

  it('accepts the usual spellings of booleans', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'on'])
      assert.equal(load({ USE_REDIS: yes }).useRedis, true);
    for (const no of ['false', 'False', '0', 'no', 'off'])
      assert.equal(load({ USE_REDIS: no }).useRedis, false);
  });

  it('lets REDIS_URL win over the manual settings', () => {
    const config = load({
      REDIS_URL: 'redis://cache:6390/2',
      REDIS_HOST: 'ignored',
      REDIS_PORT: '1',
    });
    assert.equal(config.redis.url, 'redis://cache:6390/2');
  });

  it('accepts host names with underscores, as container names have', () => {
    assert.equal(
      load({ REDIS_HOST: 'repair_agent_redis' }).redis.url,
      'redis://repair_agent_redis:6379/0',
    );
  });

  it('passes the URL forms on unchanged: password only, user and password, TLS, no port, no db', () => {
    for (const url of [
      'redis://:p%40ss@localhost:6379/0',
      'redis://alice:wonder@redis.example:6379/3',
      'rediss://user:password@localhost:6380/0',
      'redis://localhost',
    ]) {
      assert.equal(load({ REDIS_URL: url }).redis.url, url);
    }
    assert.equal(
      load({ REDIS_URL: 'rediss://u:pw@h:6380/1' }).redis.redactedUrl,
      'rediss://u:***@h:6380/1',
    );
  });

  it('completes a URL without a password from REDIS_PASSWORD', () => {
    const url = load({ REDIS_URL: 'redis://redis:6379/0', REDIS_PASSWORD: 'from env' }).redis.url;
    assert.equal(new URL(url).password, 'from%20env');
    const own = load({
      REDIS_URL: 'redis://:in-url@redis:6379/0',
      REDIS_PASSWORD: 'from-env',
    }).redis;
    assert.equal(new URL(own.url).password, 'in-url');
  });

  it('treats an empty value as unset', () => {
    const config = load({ SESSION_TTL: '', REDIS_PASSWORD: '', USE_REDIS: ' ' });
    assert.equal(config.sessionTtl, 3600);
    assert.equal(config.redis.url, 'redis://localhost:6379/0');
    assert.equal(config.useRedis, false);
  });

  it('names the variable and the value received for each bad value', () => {
    assert.match(
      configProblems({ SESSION_TTL: 'abc' }),
      /SESSION_TTL must be a whole number.*received "abc"/,
    );
    assert.match(configProblems({ SESSION_TTL: '0' }), /SESSION_TTL .*received "0"/);
    assert.match(configProblems({ SESSION_TTL: '1.5' }), /SESSION_TTL .*received "1.5"/);
    assert.match(
      configProblems({ REDIS_PORT: '70000' }),
      /REDIS_PORT must be a whole number from 1 to 65535 \(received "70000"\)/,
    );
    assert.match(
      configProblems({ USE_REDIS: 'maybe' }),
      /USE_REDIS must be true or false \(received "maybe"\)/,
    );
    assert.match(configProblems({ REDIS_DB: '-1' }), /REDIS_DB .*received "-1"/);
    assert.match(
      configProblems({ LOG_LEVEL: 'loud' }),
      /LOG_LEVEL must be one of .*received "loud"/,
    );
    assert.match(configProblems({ MAX_ATTEMPTS: '0' }), /MAX_ATTEMPTS/);
    assert.match(configProblems({ REDIS_KEY_PREFIX: 'has space' }), /REDIS_KEY_PREFIX/);
    assert.match(configProblems({ REDIS_HOST: 'bad host/x' }), /REDIS_HOST/);
  });

  it('reports every bad value at once', () => {
    const message = configProblems({ SESSION_TTL: 'abc', REDIS_PORT: '70000', USE_REDIS: 'maybe' });
    for (const name of ['SESSION_TTL', 'REDIS_PORT', 'USE_REDIS'])
      assert.match(message, new RegExp(name));
  });

  it('rejects malformed URLs without showing their password', () => {
    for (const url of [
      'localhost:6379',
      'http://localhost:6379',
      'redis://:hunter2@',
      'redis://:hunter2@localhost:6379/zero',
      'redis://:hunter2@localhost:99999/0',
      'redis://:hunter2@localhost:6379/0/extra',
      'redis://:hunter2@localhost:6379/0?tls=true',
      'redis:/:hunter2@localhost:6379/0',
      'redis//:hunter2@localhost:6379/0',
      'redis://:hunter2@[bad',
    ]) {
      const message = configProblems({ REDIS_URL: url });
      assert.match(message, /REDIS_URL/, url);
      assert.doesNotMatch(message, /hunter2/, url);
    }
  });

  it('never shows a password, in errors, toString() or JSON', () => {
    const config = load({ REDIS_PASSWORD: 'hunter2', REDIS_URL: 'redis://:other-secret@h:1/0' });
    assert.doesNotMatch(String(config), /hunter2|other-secret/);
    assert.doesNotMatch(JSON.stringify({ config }), /hunter2|other-secret/);
    assert.match(String(config), /redis:\/\/:\*\*\*@h:1\/0/);
    const withEnvPassword = load({ REDIS_PASSWORD: 'hunter2' });
    assert.doesNotMatch(JSON.stringify(withEnvPassword), /hunter2/);
    const message = configProblems({ REDIS_PASSWORD: 'hunter2', REDIS_PORT: 'x' });
    assert.doesNotMatch(message, /hunter2/);
  });

  it('redacts passwords in URLs, parsable or not', () => {
    assert.equal(redactRedisUrl('redis://:pw@host:6379/0'), 'redis://:***@host:6379/0');
    assert.equal(redactRedisUrl('rediss://user:pw@host/0'), 'rediss://user:***@host/0');
    assert.equal(redactRedisUrl('redis://:p@ss@host:6379/0'), 'redis://:***@host:6379/0');
    assert.equal(redactRedisUrl('redis://host:6379/0'), 'redis://host:6379/0');
    assert.equal(redactRedisUrl('redis:/:pw@host:6379/0'), '***@host:6379/0');
    assert.equal(redactRedisUrl('not a url :pw@x'), '***@x');
  });

  describe('.env file', () => {
    it('is read, and the environment wins over it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cql-env-'));
      const file = join(dir, '.env');
      writeFileSync(
        file,
        '# comment\nUSE_REDIS=true\nSESSION_TTL=1800\nREDIS_PASSWORD="with space"\n',
      );
      try {
        const config = loadConfig({ env: { SESSION_TTL: '7200' }, envFile: file });
        assert.equal(config.useRedis, true);
        assert.equal(config.sessionTtl, 7200);
        assert.equal(new URL(config.redis.url).password, 'with%20space');
      } finally {
        rmSync(dir, { recursive: true });
      }
    });

    it('is validated like the environment', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cql-env-'));
      const file = join(dir, '.env');
      writeFileSync(file, 'SESSION_TTL=abc\n');
      try {
        assert.throws(() => loadConfig({ env: {}, envFile: file }), /SESSION_TTL .*"abc"/);
      } finally {
        rmSync(dir, { recursive: true });
      }
    });

    it('named but missing is an error that names it', () => {
      assert.throws(
        () => loadConfig({ env: {}, envFile: '/nonexistent/.env' }),
        /\/nonexistent\/\.env/,
      );
    });
  });
});
