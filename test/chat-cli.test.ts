import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { type Run, runNode } from './support/run-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Runs `cql-agent <args>` with these input lines and this environment only, in an empty
 * folder (so no developer's .env is read). */
async function cli(
  args: string[],
  input: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const cwd = await mkdtemp(join(tmpdir(), 'cql-cli-'));
  try {
    return await runNode(['--import', TSX, MAIN, ...args], {
      cwd,
      env: { LOG_LEVEL: 'info', ...env },
      input: input.map((line) => `${line}\n`).join(''),
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

const chat = (args: string[], input: string[], env: Record<string, string> = {}) =>
  cli(['chat', ...args], input, env);

describe('cql-agent chat', () => {
  it('talks through a problem in memory, with novo and sair', async () => {
    const run = await chat(
      ['--session', 'cli-memory'],
      ['a torneira está pingando', 'sim', 'novo', 'sair'],
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /armazenamento memory/);
    assert.match(run.stdout, /O problema foi resolvido\? Responda com 'sim' ou 'não'\./);
    assert.match(run.stdout, /Que ótimo que o problema foi resolvido/);
    assert.match(run.stdout, /vamos começar um novo problema/);
    assert.match(run.stdout, /Até logo!/);
    assert.doesNotMatch(run.stdout, /"level"/, 'logs go to standard error');
    assert.match(run.stderr, /"event_type":"agent_created"/);
  });

  it('refuses a hostile session id with one clear line', async () => {
    const run = await chat(['--session', '../etc'], []);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^cql-agent: id de sessão inválido "..\/etc"/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  });

  it('refuses a bad configuration with one clear line naming the variable', async () => {
    const run = await chat([], [], { SESSION_TTL: 'abc' });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^cql-agent: configuração inválida: SESSION_TTL deve ser um número inteiro de 1 a 31536000 \(recebido "abc"\)$/m,
    );
  });
});

describe('cql-agent serve', () => {
  it('exits with an error, not a hang, when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const run = await cli(['serve'], [], { HOST: '127.0.0.1', PORT: String(port) });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});

describe('cql-agent chat on Redis', redisTestOptions(), () => {
  const redis = useRedisServer();
  /** A busy machine must not look like a Redis that stopped answering. */
  const COMMAND_TIMEOUT = { REDIS_COMMAND_TIMEOUT_MS: '5000' };

  it('continues the conversation in a second run with the same session id, holding its token', async () => {
    const state = await mkdtemp(join(tmpdir(), 'cql-chat-state-'));
    const env = {
      USE_REDIS: 'true',
      REDIS_URL: redis.server.url(),
      ...COMMAND_TIMEOUT,
      ADMIN_API_KEY_FILE: join(state, 'admin-api-key'),
    };
    const first = await chat(['--session', 'cli-redis'], ['o chuveiro não esquenta', 'sair'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /armazenamento redis/);
    assert.match(first.stdout, /Chuveiro/);

    const second = await chat(['--session', 'cli-redis'], ['não', 'sair'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Continuando a conversa \(2 mensagens\)/);
    assert.match(second.stdout, /tentativa 2 de 3/);

    const stored = JSON.parse((await redis.raw.get('cql:session:cli-redis')) ?? '{}');
    assert.equal(stored.current_attempt, 2);
    assert.equal(stored.conversation_history.length, 4);

    const tokensFile = join(state, 'chat-tokens.json');
    assert.equal((await stat(tokensFile)).mode & 0o777, 0o600);
    const token = JSON.parse(await readFile(tokensFile, 'utf8'))['cli-redis'];
    assert.equal(typeof token, 'string');
    assert.ok(!(await redis.raw.get('cql:session:cli-redis'))?.includes(token), 'only its hash');

    // Another terminal, without the token: refused, and the conversation is untouched.
    const strangerEnv = { ...env, ADMIN_API_KEY_FILE: join(state, 'other', 'admin-api-key') };
    const stranger = await chat(['--session', 'cli-redis'], ['sim', 'sair'], strangerEnv);
    assert.equal(stranger.code, 0, stranger.stderr);
    assert.match(stranger.stdout, /não tem o seu token: passe-o com --token/);
    assert.doesNotMatch(stranger.stdout, /Continuando a conversa/);
    const after = JSON.parse((await redis.raw.get('cql:session:cli-redis')) ?? '{}');
    assert.equal(after.conversation_history.length, 4);
    const given = await chat(
      ['--session', 'cli-redis', '--token', token],
      ['sim', 'sair'],
      strangerEnv,
    );
    assert.match(given.stdout, /Que ótimo que o problema foi resolvido/);
    await rm(state, { recursive: true, force: true });
  });

  it('starts a new session under a random id without --session, and says how to continue it', async () => {
    const env = { USE_REDIS: 'true', REDIS_URL: redis.server.url(), ...COMMAND_TIMEOUT };
    const run = await chat([], ['a pia está entupida', 'sair'], env);
    assert.equal(run.code, 0, run.stderr);
    const id = /Sessão "([0-9a-f-]{36})" criada: continue esta conversa depois com --session/.exec(
      run.stdout,
    )?.[1];
    assert.ok(id, run.stdout);
    assert.ok(await redis.raw.exists(`cql:session:${id}`));
    assert.equal(await redis.raw.exists('cql:session:default'), 0, 'never a shared default');
  });
});
