import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
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
    assert.match(run.stderr, /^cql-agent: Invalid session id "..\/etc"/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  });

  it('refuses a bad configuration with one clear line naming the variable', async () => {
    const run = await chat([], [], { SESSION_TTL: 'abc' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /SESSION_TTL must be a whole number .*received "abc"/);
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

  it('continues the conversation in a second run with the same session id', async () => {
    const env = { USE_REDIS: 'true', REDIS_URL: redis.server.url() };
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
  });
});
