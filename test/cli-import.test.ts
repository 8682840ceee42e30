/**
 * `cql-agent sessions import` against files built to break it, run as a child process on a
 * private redis-server: a byte order mark, an expiry in year 9999, a line of megabytes, a file
 * that fails while it is read, a directory or a FIFO. Each asserts what was imported, what was
 * refused (one line, exit code), and that nothing else was read or changed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_SESSION_TTL_SECONDS } from '../src/config.js';
import { ERRORS, IMPORT_PROBLEMS, SYSTEM_ERRORS } from '../src/texts/cli.js';
import { assertOneLine, exportLine, useCliOnRedis } from './support/cli-on-redis.js';
import { redisTestOptions } from './support/redis-server.js';

describe('cql-agent sessions import against hostile files', redisTestOptions(), () => {
  const cli = useCliOnRedis('cql-cli-import-');
  const { redis, run, connections } = cli;

  describe('import of a file built to break it', () => {
    it('accepts a UTF-8 byte order mark before line 1', async () => {
      await redis.raw.flushDb();
      const file = join(cli.cwd, 'com-bom.jsonl');
      const lines = [exportLine('bom-1', { ttl: 600 }), exportLine('bom-2', { ttl: 600 })];
      await writeFile(file, `\ufeff${lines.join('\n')}\n`);
      const result = await run(['sessions', 'import', file]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^importadas: 2;/);
      assert.equal(await redis.raw.exists('cql:session:bom-1'), 1);
    });

    it('caps an expiry in year 9999 at MAX_SESSION_TTL_SECONDS', async () => {
      const result = await run(
        ['sessions', 'import', '-'],
        {},
        `${exportLine('eterna', { ttl: null, expires_at: '9999-12-31T23:59:59.000Z' })}\n`,
      );
      assert.equal(result.code, 0, result.stderr);
      const ttl = await redis.raw.ttl('cql:session:eterna');
      assert.ok(ttl <= MAX_SESSION_TTL_SECONDS && ttl > MAX_SESSION_TTL_SECONDS - 60, `${ttl}`);
    });

    it('reports a line of megabytes by number, imports the lines after it, prints no stack', async () => {
      const huge = `{"session_id":"enorme","ttl":600,"session":{"problem":"${'x'.repeat(3 * 1024 * 1024)}"}}`;
      const input = [
        exportLine('antes-da-enorme', { ttl: 600 }),
        huge,
        exportLine('depois-da-enorme', { ttl: 600 }),
      ].join('\n');
      const result = await run(['sessions', 'import', '-'], { SESSION_MAX_BYTES: '1024' }, input);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 3, result.stderr);
      assert.match(lines[0] ?? '', /^importadas: 2; .*com falha: 1$/);
      assert.ok(
        lines[1]?.startsWith(
          `  linha 2: ${IMPORT_PROBLEMS.lineTooLong(huge.length, 1024 + 16 * 1024)}`,
        ),
      );
      assert.equal(lines[2], `${ERRORS.prefix}${ERRORS.importFailed(1)}`);
      assert.equal(await redis.raw.exists('cql:session:enorme'), 0);
      assert.equal(await redis.raw.exists('cql:session:depois-da-enorme'), 1);
    });

    it('a file that fails while it is read: one line naming it, exit 1', async () => {
      // Reading /proc/self/mem from its start fails with EIO, after the file opened fine.
      const result = await run(['sessions', 'import', '/proc/self/mem']);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        assertOneLine(result, 'EIO'),
        `${ERRORS.prefix}${ERRORS.cannotRead('/proc/self/mem', SYSTEM_ERRORS.EIO ?? '?')}`,
      );
    });

    it('a directory or a FIFO as the file: refused before Redis, exit 2', async () => {
      const fifo = join(cli.cwd, 'entrada.fifo');
      execFileSync('mkfifo', [fifo]);
      const before = await connections();
      for (const [path, kind] of [
        [cli.cwd, 'directory'],
        [fifo, 'fifo'],
      ] as const) {
        const result = await run(['sessions', 'import', path]);
        assert.equal(result.code, 2, result.stderr);
        assert.equal(
          assertOneLine(result, path),
          `${ERRORS.prefix}${ERRORS.notAFileToRead(path, kind)}`,
        );
      }
      assert.equal(await connections(), before);
    });
  });
});
