/** The built `cql-agent` binary, run as a subprocess against a private redis-server. */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AgentState } from '../src/agent/types.js';
import { encodeSession } from '../src/sessions/codec.js';
import { quarantineKey } from '../src/sessions/stores/redis-keys.js';
import { ERRORS, IMPORT_PROBLEMS, REPORTS } from '../src/texts/cli.js';
import { startApiProcess } from './support/api-process.js';
import { openManager, testConfig, testResponder } from './support/fixtures.js';
import { useRedisServer } from './support/redis-fixture.js';
import { freePort, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { type Run, runNode } from './support/run-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist/cli/main.js');
const execFileAsync = promisify(execFile);

describe('cql-agent sessions (built binary)', redisTestOptions(), () => {
  const redis = useRedisServer();
  let cwd: string;

  before(async () => {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
      },
    );
    cwd = await mkdtemp(join(tmpdir(), 'cql-cli-'));
    await redis.raw.configResetStat();
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  /** Runs the binary with the configuration of a deployment on the private Redis. */
  const run = (args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> =>
    runNode([BIN, ...args], {
      cwd,
      env: { USE_REDIS: 'true', REDIS_URL: redis.server.url(), ...env },
      input,
    });

  async function seed(ids: string[], ttl = '3600'): Promise<void> {
    const manager = await openManager({
      config: testConfig({ USE_REDIS: 'true', REDIS_URL: redis.server.url(), SESSION_TTL: ttl }),
      responder: await testResponder(),
    });
    for (const id of ids)
      await manager.withSession(id, (agent) => agent.chat('a torneira está pingando'));
    await manager.close();
  }

  it('chat: continues a conversation in a second run', async () => {
    const first = await run(['chat', '--session', 'bin-chat'], {}, 'a pia está entupida\nsair\n');
    assert.equal(first.code, 0, first.stderr);
    const second = await run(['chat', '--session', 'bin-chat'], {}, 'não\nsair\n');
    assert.match(second.stdout, /tentativa 2 de 3/);
  });

  it('serve: answers on its port and stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        USE_REDIS: 'true',
        REDIS_URL: redis.server.url(),
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let health: { session_store?: { backend: string } } = {};
      for (let i = 0; i < 100 && health.session_store === undefined; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.json() as Promise<typeof health>,
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            return {};
          },
        );
      }
      assert.equal(health.session_store?.backend, 'redis');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('lists sessions as a table, as JSON lines, and up to a limit', async () => {
    await run(['sessions', 'purge', '--yes']);
    await seed(['alpha', 'beta', 'gamma']);
    const table = await run(['sessions', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${REPORTS.listHeader.join('\\s+')}$`, 'm'));
    assert.match(table.stdout, /^SESSÃO\s+ESTADO\s+TENTATIVA\s+TTL$/m);
    assert.match(table.stdout, /^alpha\s+waiting_feedback\s+1\s+3\d{3}s$/m);
    assert.equal(table.stdout.trim().split('\n').at(-1), '3 sessões');
    const json = await run(['sessions', 'list', '--json', '--limit', '2']);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(lines[0]), ['session_id', 'state', 'current_attempt', 'ttl']);
    assert.equal((await run(['sessions', 'list', '--limit', '0'])).code, 2, 'a usage error');
  });

  it('shows a session, its TTL, and deletes it; a missing one is exit 1', async () => {
    await seed(['delta']);
    const show = await run(['sessions', 'show', 'delta']);
    assert.equal(show.code, 0);
    const session = JSON.parse(show.stdout);
    assert.equal(session.session_id, 'delta');
    assert.equal(session.conversation_history.length, 2);
    const ttl = await run(['sessions', 'ttl', 'delta']);
    assert.ok(Number(ttl.stdout) > 3500, ttl.stdout);
    assert.equal(
      (await run(['sessions', 'delete', 'delta'])).stdout.trim(),
      'sessão delta apagada',
    );
    for (const command of ['show', 'ttl', 'delete']) {
      const missing = await run(['sessions', command, 'delta']);
      assert.equal(missing.code, 1, command);
      assert.equal(missing.stderr.trim(), 'cql-agent: sessão "delta" não encontrada');
    }
  });

  it('reports stats with states and Redis INFO figures', async () => {
    const stats = await run(['sessions', 'stats']);
    assert.equal(stats.code, 0, stats.stderr);
    const labels = REPORTS.stats;
    assert.match(stats.stdout, /^backend {11}redis$/m);
    assert.match(stats.stdout, /^memória usada {5}\d+\.\d MiB$/m);
    for (const label of [
      labels.sessions,
      'waiting_feedback',
      labels.maxmemory,
      labels.evictedKeys,
      labels.hitRatio,
      labels.quarantined,
    ]) {
      assert.match(stats.stdout, new RegExp(`^\\s*${label} +\\S`, 'm'), label);
    }
  });

  /** Writes sessions as the codec stores them, in pipelined SETs (many at once, fast). */
  async function seedStored(states: Record<string, AgentState>): Promise<void> {
    const at = '2026-03-01T10:00:00.000Z';
    const pipeline = redis.raw.multi();
    for (const [id, state] of Object.entries(states)) {
      const { json } = encodeSession(
        id,
        {
          schema_version: 1,
          version: 1,
          state,
          current_attempt: state === 'new_problem' ? 0 : 1,
          max_attempts: 3,
          use_rag: true,
          use_web_search: true,
          created_at: at,
          updated_at: at,
          problem: 'a torneira pinga',
          conversation_history: [{ role: 'user', content: 'a torneira pinga', at }],
        },
        { maxHistoryMessages: 100, maxBytes: 262144 },
      );
      pipeline.set(`cql:session:${id}`, json, { expiration: { type: 'EX', value: 3600 } });
    }
    await pipeline.execAsPipeline();
  }

  it('lists page after page past the first thousand, each session once, up to --limit', async () => {
    await run(['sessions', 'purge', '--yes']);
    const ids = Array.from({ length: 2500 }, (_, i) => `many-${i}`);
    await seedStored(Object.fromEntries(ids.map((id) => [id, 'waiting_feedback' as const])));
    const all = await run(['sessions', 'list', '--json']);
    assert.equal(all.code, 0, all.stderr);
    const listed = all.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { session_id: string }).session_id);
    assert.equal(listed.length, 2500);
    assert.deepEqual([...new Set(listed)].sort(), [...ids].sort());
    const limited = await run(['sessions', 'list', '--limit', '1200']);
    assert.equal(limited.code, 0, limited.stderr);
    const lines = limited.stdout.trim().split('\n');
    assert.equal(lines.at(-1), '1200 sessões');
    assert.equal(
      lines.filter((line) => /^many-\d+ +waiting_feedback +1 +\d+s$/.test(line)).length,
      1200,
    );
    await run(['sessions', 'purge', '--yes']);
  });

  it('counts sessions by state from their heads, leaving unreadable values out', async () => {
    await run(['sessions', 'purge', '--yes']);
    await seedStored({
      w1: 'waiting_feedback',
      w2: 'waiting_feedback',
      w3: 'waiting_feedback',
      r1: 'resolved',
      r2: 'resolved',
    });
    // Written by another tool, in another key order: read whole, and counted.
    const at = '2026-03-01T10:00:00.000Z';
    await redis.raw.set(
      'cql:session:reordered',
      JSON.stringify({
        conversation_history: [],
        problem: null,
        schema_version: 1,
        version: 4,
        state: 'max_attempts',
        current_attempt: 3,
        max_attempts: 3,
        use_rag: true,
        use_web_search: true,
        created_at: at,
        updated_at: at,
      }),
    );
    // Unreadable: left out.
    await seedStored({ broken: 'resolved' });
    const broken = (await redis.raw.get('cql:session:broken')) ?? '';
    await redis.raw.set(
      'cql:session:broken',
      broken.replace(/"created_at":"[^"]*"/, '"created_at":"ontem"'),
    );
    await redis.raw.set('cql:session:garbage', 'not json');
    await redis.raw.hSet('cql:session:hash', 'field', 'value');
    // Moved aside earlier: not a session, but told apart.
    await redis.raw.set(quarantineKey('cql:session:', 'old'), 'not json');
    const stats = await run(['sessions', 'stats']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^sessões +6$/m);
    assert.match(stats.stdout, /^ {2}waiting_feedback +3$/m);
    assert.match(stats.stdout, /^ {2}resolved +2$/m);
    assert.match(stats.stdout, /^ {2}max_attempts +1$/m);
    assert.match(stats.stdout, /^em quarentena +1$/m);
    await run(['sessions', 'purge', '--yes']);
  });

  it('restores every session with its TTL after export, purge and import, and never sends KEYS', async () => {
    await run(['sessions', 'purge', '--yes']);
    await seed(['one', 'two', 'three'], '3600');
    await seed(['short'], '600');
    const file = join(cwd, 'backup.jsonl');
    const exported = await run(['sessions', 'export', '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stderr.trim(), '4 sessões exportadas');
    const before = new Map<string, number>();
    for await (const keys of redis.raw.scanIterator({ MATCH: 'cql:session:*' })) {
      for (const key of keys) before.set(key, await redis.raw.ttl(key));
    }
    assert.equal(before.size, 4);
    const measured = Date.now();

    const dry = await run(['sessions', 'purge']);
    assert.match(dry.stdout, /^4 chaves seriam apagadas sob "cql:session:"/);
    assert.match(dry.stdout, new RegExp(REPORTS.nothingPurged));
    assert.equal(await redis.raw.exists('cql:session:one'), 1, 'nothing deleted without --yes');
    await redis.raw.set('other-app:key', 'kept');
    assert.equal(
      (await run(['sessions', 'purge', '--yes'])).stdout.trim(),
      '4 chaves apagadas sob "cql:session:"',
    );
    assert.equal(await redis.raw.get('other-app:key'), 'kept', 'only keys under the prefix');

    const imported = await run(['sessions', 'import', file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /^importadas: 4; ignoradas: 0 /);
    // The expiry time is kept: the TTL left is the one exported, less the time gone by since.
    const elapsed = Math.round((Date.now() - measured) / 1000);
    for (const [key, ttl] of before) {
      const now = await redis.raw.ttl(key);
      assert.ok(
        Math.abs(now + elapsed - ttl) <= 2,
        `${key}: TTL ${ttl} before, ${now} after ${elapsed} s`,
      );
    }
    const again = await run(['sessions', 'import', file]);
    assert.match(
      again.stderr,
      /^importadas: 0; ignoradas: 4 /,
      'never over the same or a newer version',
    );
    await redis.raw.del('other-app:key');
  });

  it('never overwrites a session updated after the backup, even one created again under its id', async () => {
    await run(['sessions', 'purge', '--yes']);
    await seed(['kept']);
    const file = join(cwd, 'older.jsonl');
    await run(['sessions', 'export', '--out', file]);
    await run(['sessions', 'delete', 'kept']);
    await seed(['kept']); // a new conversation under the same id, version 1 again
    const newer = await redis.raw.get('cql:session:kept');
    const result = await run(['sessions', 'import', file]);
    assert.match(result.stderr, /^importadas: 0; ignoradas: 1 /);
    assert.equal(await redis.raw.get('cql:session:kept'), newer);
  });

  it('imports from standard input', async () => {
    await run(['sessions', 'purge', '--yes']);
    const result = await run(
      ['sessions', 'import', '-'],
      {},
      await readFile(join(cwd, 'backup.jsonl'), 'utf8'),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^importadas: 4;/);
  });

  it('imports the good lines of a file with bad ones, naming each bad line', async () => {
    const good = (await readFile(join(cwd, 'backup.jsonl'), 'utf8')).split('\n')[0];
    const file = join(cwd, 'mixed.jsonl');
    await writeFile(
      file,
      `${good}\n{"session_id": "x",\nnot json\n{"session_id":"../bad","ttl":1,"session":{}}\n`,
    );
    await run(['sessions', 'purge', '--yes']);
    const result = await run(['sessions', 'import', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^importadas: 1; ignoradas: 0 .*; expiradas: 0; com falha: 3$/m);
    assert.ok(result.stderr.includes(`  linha 2: ${IMPORT_PROBLEMS.notJson}\n`), result.stderr);
    assert.ok(result.stderr.includes(`  linha 4: ${IMPORT_PROBLEMS.badSessionId}\n`));
    assert.match(result.stderr, /^cql-agent: 3 linhas não puderam ser importadas$/m);
  });

  it('shows no progress bar when its output is not a terminal', async () => {
    await run(['sessions', 'purge', '--yes']);
    const pipeline = redis.raw.multi();
    const template = (await readFile(join(cwd, 'backup.jsonl'), 'utf8')).split('\n')[0] ?? '';
    const value = JSON.stringify(JSON.parse(template).session);
    for (let i = 0; i < 1100; i++)
      pipeline.set(`cql:session:bulk-${i}`, value, { expiration: { type: 'EX', value: 600 } });
    await pipeline.exec();
    const exported = await run(['sessions', 'export', '--out', join(cwd, 'bulk.jsonl')]);
    assert.equal(exported.stderr.trim(), REPORTS.exported(1100, []));
    assert.equal(exported.stderr.trim(), '1100 sessões exportadas');
  });

  it('shows a progress bar on a terminal for more than 1,000 sessions', async () => {
    // script(1) runs the binary on a pseudo-terminal: stderr is a TTY there.
    const onTerminal = async (args: string[]) => {
      const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
      const { stdout } = await execFileAsync('script', ['-qec', command, '/dev/null'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', USE_REDIS: 'true', REDIS_URL: redis.server.url() },
      });
      return stdout;
    };
    const file = join(cwd, 'bulk-terminal.jsonl');
    const exported = await onTerminal(['sessions', 'export', '--out', file]);
    assert.match(exported, /1100\/1100 sessões/);
    assert.match(exported, /1100 sessões exportadas/);
    await run(['sessions', 'purge', '--yes']);
    const imported = await onTerminal(['sessions', 'import', file]);
    assert.match(imported, /1100\/1100 sessões/);
    assert.match(imported, /importadas: 1100; ignoradas: 0/);
    // At 1,000 sessions or fewer, no bar.
    const pipeline = redis.raw.multi();
    for (let i = 0; i < 100; i++) pipeline.unlink(`cql:session:bulk-${i}`);
    await pipeline.exec();
    const fewer = await onTerminal(['sessions', 'export', '--out', join(cwd, 'fewer.jsonl')]);
    assert.match(fewer, /1000 sessões exportadas/);
    assert.doesNotMatch(fewer, /\/1000 sessões/);
  });

  it('moves a memory deployment to Redis without losing sessions: snapshot at shutdown, import', async () => {
    const snapshot = join(cwd, 'memory.jsonl');
    const env = { USE_REDIS: 'false', MEMORY_SNAPSHOT_PATH: snapshot };
    interface Reply {
      session_token?: string;
      metadata: { current_attempt: number };
    }
    // The session's token, from the answer that created it, opens it on every later request.
    const post = (base: string, message: string, token?: string) =>
      fetch(`${base}/api/v1/chat/message`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token !== undefined && { 'x-session-token': token }),
        },
        body: JSON.stringify({ message, session_id: 'migrating' }),
      }).then((response) => response.json() as Promise<Reply>);
    const first = await startApiProcess(env);
    let token: string | undefined;
    try {
      token = (await post(first.base, 'o chuveiro não esquenta')).session_token;
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0);
    }
    assert.ok(token, 'the first answer gives the session token');
    const second = await startApiProcess(env);
    try {
      assert.equal(
        (await post(second.base, 'não', token)).metadata?.current_attempt,
        2,
        'memory survived the restart',
      );
    } finally {
      assert.equal(await second.stop('SIGTERM'), 0);
    }
    await run(['sessions', 'purge', '--yes']);
    const imported = await run(['sessions', 'import', snapshot]);
    assert.match(imported.stderr, /^importadas: 1;/);
    const moved = JSON.parse((await redis.raw.get('cql:session:migrating')) ?? '{}');
    assert.equal(moved.current_attempt, 2);
    assert.equal(moved.conversation_history.length, 4);
  });

  it('fails with one line and exit 2 for a bad id, a missing file, no Redis, or USE_REDIS=false', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['sessions', 'show', '../x'], {}, /^cql-agent: id de sessão inválido "..\/x"/],
      [
        ['sessions', 'import', '/no/such/file.jsonl'],
        {},
        /^cql-agent: não foi possível ler "\/no\/such\/file.jsonl": arquivo ou pasta inexistente\n$/,
      ],
      [
        ['sessions', 'list'],
        { REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` },
        /^cql-agent: não foi possível conectar ao Redis em .*ECONNREFUSED/,
      ],
      [
        ['sessions', 'list'],
        { REDIS_URL: 'redis://:wrong@127.0.0.1:1/0' },
        /^cql-agent: não foi possível conectar ao Redis em redis:\/\/:\*\*\*@/,
      ],
      [
        ['sessions', 'list'],
        { USE_REDIS: 'false' },
        new RegExp(`^cql-agent: ${ERRORS.redisRequired.slice(0, 40)}`),
      ],
      [
        ['sessions', 'list'],
        { SESSION_TTL: 'abc' },
        /^cql-agent: configuração inválida: SESSION_TTL /,
      ],
    ];
    for (const [args, env, pattern] of cases) {
      const result = await run(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    }
  });

  it('reports a wrong password as one line, without the password', async () => {
    const locked = await startRedisServer({ password: 'the-right-one' });
    try {
      const result = await run(['sessions', 'list'], {
        REDIS_URL: `redis://:wrong-secret@127.0.0.1:${locked.port}/0`,
      });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        /^cql-agent: não foi possível conectar ao Redis em redis:\/\/:\*\*\*@127.0.0.1:\d+\/0: .*WRONGPASS/,
      );
      assert.doesNotMatch(result.stderr, /wrong-secret/);
    } finally {
      await locked.stop();
    }
  });

  it('never sent KEYS, FLUSHDB or FLUSHALL in any of the commands above', async () => {
    const stats = await redis.raw.info('commandstats');
    assert.match(stats, /cmdstat_scan:/);
    assert.doesNotMatch(stats, /cmdstat_keys:|cmdstat_flushdb:|cmdstat_flushall:/);
  });
});
