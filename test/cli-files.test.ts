/**
 * `cql-agent` against hostile paths, run as a child process on a private redis-server: export
 * targets that are not regular files, the memory snapshot pointed at a device, and failures that
 * used to print a stack trace. Each attack asserts the refusal (one line, exit code) and that
 * nothing was read, changed or lost. Import files built to break it: cli-import.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRORS, FILE_KINDS, SYSTEM_ERRORS } from '../src/texts/cli.js';
import { assertOneLine, MAIN, TSX, useCliOnRedis } from './support/cli-on-redis.js';
import { redisTestOptions } from './support/redis-server.js';

describe('cql-agent against hostile paths and files', redisTestOptions(), () => {
  const cli = useCliOnRedis('cql-cli-files-');
  const { redis, run, connections, seed } = cli;

  describe('export --out to a path that is not a regular file', () => {
    /** Runs the export at `target`; it must be refused before Redis is even contacted. */
    async function refused(target: string, kind: string): Promise<void> {
      await seed('conversa-1', 'conversa-2');
      const before = await connections();
      const result = await run(['sessions', 'export', '--out', target]);
      assert.equal(result.code, 2, result.stderr);
      const line = assertOneLine(result, target);
      assert.ok(line.includes(JSON.stringify(target)), line);
      assert.ok(line.includes(FILE_KINDS[kind] ?? '?'), line);
      assert.equal(result.stdout, '', 'nothing written to standard output either');
      assert.equal(await connections(), before, 'not one session read');
    }

    it('/dev/null stays a device', async () => {
      await refused('/dev/null', 'character-device');
      assert.ok((await lstat('/dev/null')).isCharacterDevice());
    });

    it('a FIFO stays a FIFO, nobody reading it gets a session', async () => {
      const dir = await mkdtemp(join(cli.cwd, 'fifo-'));
      const fifo = join(dir, 'backup.jsonl');
      execFileSync('mkfifo', ['-m', '0600', fifo]);
      await refused(fifo, 'fifo');
      assert.ok((await lstat(fifo)).isFIFO());
      assert.deepEqual(await readdir(dir), ['backup.jsonl'], 'no temporary file left');
    });

    it('a symbolic link to a file: the link and the file it points to are unchanged', async () => {
      const dir = await mkdtemp(join(cli.cwd, 'link-'));
      const victim = join(dir, 'authorized_keys');
      await writeFile(victim, 'ssh-ed25519 AAAA chave\n', { mode: 0o644 });
      const link = join(dir, 'backup.jsonl');
      await symlink(victim, link);
      await refused(link, 'symlink');
      assert.equal(await readFile(victim, 'utf8'), 'ssh-ed25519 AAAA chave\n');
      assert.equal((await stat(victim)).mode & 0o777, 0o644);
      assert.ok((await lstat(link)).isSymbolicLink());
      assert.deepEqual((await readdir(dir)).sort(), ['authorized_keys', 'backup.jsonl']);
    });

    it('a directory: one line, where a stack trace was printed', async () => {
      const dir = await mkdtemp(join(cli.cwd, 'dir-'));
      await mkdir(join(dir, 'backup.jsonl'));
      await refused(join(dir, 'backup.jsonl'), 'directory');
      assert.deepEqual(await readdir(join(dir, 'backup.jsonl')), []);
      assert.deepEqual(await readdir(dir), ['backup.jsonl']);
    });

    it('a folder that does not exist: one line naming the path, exit 2', async () => {
      const target = join(cli.cwd, 'não-existe', 'backup.jsonl');
      const before = await connections();
      const result = await run(['sessions', 'export', '--out', target]);
      assert.equal(result.code, 2);
      assert.equal(
        assertOneLine(result, target),
        `${ERRORS.prefix}${ERRORS.cannotWrite(target, SYSTEM_ERRORS.ENOENT ?? '?')}`,
      );
      assert.equal(await connections(), before);
    });
  });

  it('export creates its file with mode 0600, and replaces a readable one with a 0600 file', async () => {
    await redis.raw.flushDb();
    await seed('modo-a', 'modo-b');
    const dir = await mkdtemp(join(cli.cwd, 'mode-'));
    const fresh = join(dir, 'novo.jsonl');
    const created = await run(['sessions', 'export', '--out', fresh]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await stat(fresh)).mode & 0o777, 0o600);
    assert.equal((await readFile(fresh, 'utf8')).trim().split('\n').length, 2);

    const older = join(dir, 'antigo.jsonl');
    await writeFile(older, 'backup antigo\n', { mode: 0o644 });
    const replaced = await run(['sessions', 'export', '--out', older]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal((await stat(older)).mode & 0o777, 0o600);
    assert.match(await readFile(older, 'utf8'), /"session_id":"modo-a"/);
    assert.deepEqual((await readdir(dir)).sort(), ['antigo.jsonl', 'novo.jsonl'], 'no leftovers');

    const piped = await run(['sessions', 'export', '--out', '-']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.trim().split('\n').length, 2, '- is standard output');
  });

  it('an error outside the promise of a command (standard output full): one line, exit 1', async () => {
    await seed('saida-cheia');
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, ['--import', TSX, MAIN, 'sessions', 'list'], {
        cwd: cli.cwd,
        env: {
          PATH: process.env.PATH ?? '',
          USE_REDIS: 'true',
          REDIS_URL: redis.server.url(),
        },
        stdio: ['ignore', full, 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 1, stderr);
      assert.equal(
        assertOneLine({ code, stdout: '', stderr }, '/dev/full'),
        `${ERRORS.prefix}${ERRORS.cannotWriteStandardOutput(SYSTEM_ERRORS.ENOSPC ?? '?')}`,
      );
    } finally {
      closeSync(full);
    }
  });

  describe('serve with MEMORY_SNAPSHOT_PATH that is not a regular file', () => {
    for (const [name, path, kind] of [
      ['/dev/null', () => '/dev/null', 'character-device'],
      [
        'a FIFO',
        () => {
          const fifo = join(cli.cwd, 'snapshot.fifo');
          execFileSync('mkfifo', [fifo]);
          return fifo;
        },
        'fifo',
      ],
    ] as const) {
      it(`${name}: stops at start-up with one line and exit 2`, async () => {
        const target = path();
        const result = await run(['serve'], {
          USE_REDIS: 'false',
          MEMORY_SNAPSHOT_PATH: target,
          HOST: '127.0.0.1',
          PORT: '0',
        });
        assert.equal(result.code, 2, result.stderr);
        const line = assertOneLine(result, name);
        assert.ok(line.includes('MEMORY_SNAPSHOT_PATH'), line);
        assert.ok(line.includes(JSON.stringify(target)), line);
        assert.ok(line.includes(FILE_KINDS[kind] ?? '?'), line);
      });
    }
  });
});
