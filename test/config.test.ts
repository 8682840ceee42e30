import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, envSchema, loadConfig, redactRedisUrl } from '../src/config.js';
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
      /SESSION_TTL deve ser um número inteiro de 1 a 31536000 \(recebido "abc"\)/,
    );
    assert.match(configProblems({ SESSION_TTL: '0' }), /SESSION_TTL .*recebido "0"/);
    assert.match(configProblems({ SESSION_TTL: '1.5' }), /SESSION_TTL .*recebido "1.5"/);
    assert.match(
      configProblems({ REDIS_PORT: '70000' }),
      /REDIS_PORT deve ser um número inteiro de 1 a 65535 \(recebido "70000"\)/,
    );
    assert.match(
      configProblems({ USE_REDIS: 'maybe' }),
      /USE_REDIS deve ser true ou false \(recebido "maybe"\)/,
    );
    assert.match(configProblems({ REDIS_DB: '-1' }), /REDIS_DB .*recebido "-1"/);
    assert.match(
      configProblems({ LOG_LEVEL: 'loud' }),
      /LOG_LEVEL deve ser um destes: trace, debug, info, warning, error, critical, silent \(recebido "loud"\)/,
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

  it('opens its message with a Portuguese title over one line per problem', () => {
    assert.equal(
      new ConfigError(['A ruim', 'B ruim']).message,
      'Configuração inválida:\n  - A ruim\n  - B ruim',
    );
    assert.match(
      configProblems({ SESSION_TTL: 'abc' }),
      /^Configuração inválida:\n {2}- SESSION_TTL /,
    );
  });

  it('refuses a wrong value of every variable in Portuguese, naming the variable first', () => {
    const garbage = ['x y', '-1', '{', '1.5', 'ftp://h', 'redis://h/x'];
    // Any text is a valid value of these: a path checked later, or a password.
    const freeForm = new Set([
      'REDIS_PASSWORD',
      'MEMORY_SNAPSHOT_PATH',
      'KNOWLEDGE_DIR',
      'ADMIN_API_KEY_FILE',
    ]);
    const english =
      /\b(must|received|cannot|should|needs?|invalid|expected|too|the|and|or|of|be|with|without)\b/i;
    for (const variable of Object.keys(envSchema.shape)) {
      const problems = garbage.flatMap((value) => {
        try {
          load({ [variable]: value });
          return [];
        } catch (error) {
          assert.ok(error instanceof ConfigError, `${variable}=${value}: ${error}`);
          return [...error.problems];
        }
      });
      if (freeForm.has(variable)) {
        assert.deepEqual(problems, [], `${variable} takes any text`);
        continue;
      }
      assert.ok(problems.length > 0, `${variable} refuses one of ${garbage.join(' | ')}`);
      for (const problem of problems) {
        assert.ok(problem.startsWith(`${variable} `), problem);
        assert.match(problem, /\(recebido "/, problem);
        assert.doesNotMatch(problem, english, problem);
      }
    }
  });

  it('says which settings do not fit together, in Portuguese', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-config-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '');
    try {
      const cases: Array<[Record<string, string>, RegExp]> = [
        [
          { REDIS_URL: 'redis://:hunter2@h:6379/0', REDIS_TLS_CA: pem },
          /REDIS_TLS_CA, REDIS_TLS_CERT e REDIS_TLS_KEY exigem uma REDIS_URL rediss:\/\/; com uma URL redis:\/\/ a conexão seria em texto puro \(recebido "redis:\/\/:\*\*\*@h:6379\/0"\)/,
        ],
        [
          { REDIS_TLS_CERT: pem },
          /REDIS_TLS_CERT e REDIS_TLS_KEY andam juntas: defina as duas ou nenhuma/,
        ],
        [
          { REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 'b:26379' },
          /REDIS_CLUSTER_NODES e REDIS_SENTINELS não podem ser definidas juntas: escolha uma/,
        ],
        [
          { REDIS_CLUSTER_NODES: 'a:7000', REDIS_DB: '3' },
          /REDIS_CLUSTER_NODES: um Redis Cluster só tem o banco 0, e REDIS_URL ou REDIS_DB pede o banco 3/,
        ],
        [
          { REDIS_URL: 'http://h:6379' },
          /REDIS_URL deve ter a forma redis:\/\/\[usuário:senha@\]host\[:porta\]\[\/banco\] ou rediss:\/\/\.\.\. \(recebido "http:\/\/h:6379\/"\)/,
        ],
        [
          { REDIS_URL: 'redis://h:6379/0?tls=true' },
          /REDIS_URL não aceita \?parâmetros nem #fragmento \(recebido "redis:\/\/h:6379\/0\?tls=true"\)/,
        ],
        [
          { REDIS_URL: 'redis://h:6379/zero' },
          /REDIS_URL deve indicar o banco com um número inteiro, como em redis:\/\/host:6379\/0 \(recebido "redis:\/\/h:6379\/zero"\)/,
        ],
      ];
      for (const [env, expected] of cases) assert.match(configProblems(env), expected);
    } finally {
      rmSync(dir, { recursive: true });
    }
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

  it('redacts a secret placed in the user-name slot of any URL', () => {
    assert.equal(redactRedisUrl('redis://s3cret@host:6379/0'), 'redis://***@host:6379/0');
    assert.equal(redactRedisUrl('rediss://s3cret:@host/0'), 'rediss://***@host/0');
    const config = load({ REDIS_URL: 'redis://s3cret@cache:6379/0' });
    assert.doesNotMatch(String(config), /s3cret/);
    assert.doesNotMatch(configProblems({ REDIS_URL: 'redis://s3cret@cache:6379/x' }), /s3cret/);
    const llm = load({ LLM_PROVIDER: 'ollama', OLLAMA_BASE_URL: 'http://s3cret@ollama:11434' });
    assert.doesNotMatch(String(llm), /s3cret/);
  });

  it('reads the access and HTTP settings, and hides their keys', () => {
    const defaults = load({});
    assert.equal(defaults.sessionAccess, 'token');
    assert.equal(defaults.api.trustProxy, false);
    assert.equal(defaults.api.headersTimeoutMs, 10000);
    assert.equal(defaults.api.bodyTimeoutMs, 30000);
    assert.equal(defaults.api.maxConnectionsPerIp, 64);
    assert.equal(defaults.api.adminApiKeyFile, '.state/admin-api-key');
    assert.deepEqual(defaults.api.openaiCompatApiKeys, []);
    const config = load({
      SESSION_ACCESS: 'id',
      METRICS_API_KEY: 'metrics-key-0123456789',
      OPENAI_COMPAT_API_KEYS: 'first-key-0123456789, second-key-0123456789',
      ADMIN_API_KEY: 'admin-key-0123456789',
    });
    assert.equal(config.sessionAccess, 'id');
    assert.equal(config.api.openaiCompatApiKeys.length, 2);
    assert.doesNotMatch(String(config), /0123456789/);
    assert.match(
      configProblems({ OPENAI_COMPAT_API_KEYS: 'short' }),
      /OPENAI_COMPAT_API_KEYS deve ter de 16 a 512 caracteres imprimíveis, sem espaços \(recebido "\*\*\*"\)/,
    );
    assert.doesNotMatch(configProblems({ METRICS_API_KEY: 'short key' }), /short key/);
    assert.match(
      configProblems({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_BODY_TIMEOUT_MS: '10000' }),
      /HTTP_BODY_TIMEOUT_MS \(10000\) não pode ser menor que HTTP_HEADERS_TIMEOUT_MS \(20000\)/,
    );
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
        /não foi possível ler o arquivo de ambiente "\/nonexistent\/\.env": arquivo ou pasta inexistente/,
      );
    });
  });
});
