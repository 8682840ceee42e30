/**
 * `cql-agent sessions ...`: operator commands over the sessions in Redis, with the service's
 * configuration. They talk to Redis directly (no fallback to memory: an operator must know when
 * Redis is unreachable) and never send KEYS or FLUSHDB.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { decodeSession, type SessionRecord } from '../sessions/codec.js';
import { SessionManager } from '../sessions/manager.js';
import { redisStoreOptions } from '../sessions/open-store.js';
import { assertSessionId } from '../sessions/session-id.js';
import { RedisSessionStore } from '../sessions/stores/redis.js';
import { exportSessions, importSessions } from '../sessions/transfer.js';

/** An expected failure: printed as one line, exit code 1 (2 for usage and connection errors). */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Above this many sessions, a terminal gets a progress bar. */
const PROGRESS_THRESHOLD = 1000;

interface Context {
  config: Config;
  store: RedisSessionStore;
  manager: SessionManager;
}

async function withRedis<T>(run: (context: Context) => Promise<T>): Promise<T> {
  const config = loadConfig();
  if (!config.useRedis) {
    throw new CliError(
      'sessions commands work on Redis: set USE_REDIS=true (sessions in memory live inside the running ' +
        'server: export them with GET /api/v1/export/sessions or MEMORY_SNAPSHOT_PATH)',
      2,
    );
  }
  const logger = createLogger({ level: 'silent' });
  const store = await RedisSessionStore.connect({
    ...redisStoreOptions(config, logger),
    commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, 5000),
  }).catch((error: Error) => {
    throw new CliError(`cannot reach Redis at ${config.redis.description}: ${error.message}`, 2);
  });
  const manager = await SessionManager.create({ config, logger, store });
  try {
    return await run({ config, store, manager });
  } finally {
    await manager.close();
  }
}

function progress(total: number): SingleBar | undefined {
  if (!process.stderr.isTTY || total <= PROGRESS_THRESHOLD) return undefined;
  const bar = new SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} sessions' });
  bar.start(total, 0);
  return bar;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number above 0');
  return n;
};

const sessionIdArgument = (value: string) => {
  assertSessionId(value);
  return value;
};

/** A file stream, once it is open (a bad path is a CliError, not an unhandled 'error'). */
async function openForWriting(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`, 2);
  }
  return stream;
}

async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

export function registerSessionCommands(program: Command): void {
  const sessions = program
    .command('sessions')
    .description('inspect, back up and restore the sessions in Redis');

  sessions
    .command('list')
    .description('id, state, attempt and TTL of each session (SCAN, never KEYS)')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'at most this many', positive)
    .action((options: { json?: boolean; limit?: number }) =>
      withRedis(async ({ manager }) => {
        const list = await manager.listSessions({ limit: options.limit });
        if (options.json) {
          for (const s of list) {
            await writeLine(
              process.stdout,
              JSON.stringify({
                session_id: s.sessionId,
                state: s.state,
                current_attempt: s.currentAttempt,
                ttl: s.ttl,
              }),
            );
          }
          return;
        }
        const rows = [
          ['SESSION', 'STATE', 'ATTEMPT', 'TTL'],
          ...list.map((s) => [
            s.sessionId,
            s.state,
            String(s.currentAttempt),
            s.ttl === null ? '-' : `${s.ttl}s`,
          ]),
        ];
        const widths =
          rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
        for (const row of rows)
          await writeLine(
            process.stdout,
            row
              .map((cell, i) => cell.padEnd(widths[i] ?? 0))
              .join('  ')
              .trimEnd(),
          );
        await writeLine(process.stdout, `${list.length} session(s)`);
      }),
    );

  sessions
    .command('show')
    .argument('<id>', 'session id', sessionIdArgument)
    .description('the whole session, history included, with its TTL')
    .action((id: string) =>
      withRedis(async ({ store, manager }) => {
        // Read only: an unreadable value is reported, not moved aside as a request would.
        const [raw, ttl] = await Promise.all([store.get(id), store.ttl(id)]);
        if (raw === null) throw new CliError(`session "${id}" not found`);
        let record: SessionRecord;
        try {
          record = decodeSession(id, raw, manager.cipher);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        await writeLine(
          process.stdout,
          JSON.stringify({ session_id: id, ttl, ...record }, null, 2),
        );
      }),
    );

  sessions
    .command('ttl')
    .argument('<id>', 'session id', sessionIdArgument)
    .description('seconds the session has left')
    .action((id: string) =>
      withRedis(async ({ store }) => {
        if (!(await store.exists(id))) throw new CliError(`session "${id}" not found`);
        const ttl = await store.ttl(id);
        await writeLine(process.stdout, ttl === null ? 'no expiry' : String(ttl));
      }),
    );

  sessions
    .command('delete')
    .argument('<id>', 'session id', sessionIdArgument)
    .description('delete one session')
    .action((id: string) =>
      withRedis(async ({ manager }) => {
        if (!(await manager.deleteSession(id))) throw new CliError(`session "${id}" not found`);
        await writeLine(process.stdout, `deleted ${id}`);
      }),
    );

  sessions
    .command('stats')
    .description('sessions by state, and memory, eviction and hit ratio from Redis INFO')
    .action(() =>
      withRedis(async ({ manager, store }) => {
        const list = await manager.listSessions();
        const status = await store.status();
        const byState = new Map<string, number>();
        for (const s of list) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
        const mib = (bytes = 0) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
        const lookups = (status.keyspaceHits ?? 0) + (status.keyspaceMisses ?? 0);
        const lines = [
          `backend           redis`,
          `sessions          ${list.length}`,
          ...[...byState].sort().map(([state, n]) => `  ${state.padEnd(18)}${n}`),
          `used memory       ${mib(status.usedMemoryBytes)}`,
          `maxmemory         ${status.maxmemoryBytes ? mib(status.maxmemoryBytes) : 'no limit'} (${status.maxmemoryPolicy ?? '?'})`,
          `evicted keys      ${status.evictedKeys ?? 0}`,
          `hit ratio         ${lookups === 0 ? '-' : `${(((status.keyspaceHits ?? 0) / lookups) * 100).toFixed(1)}%`}`,
        ];
        for (const line of lines) await writeLine(process.stdout, line);
      }),
    );

  sessions
    .command('export')
    .description('every session and its expiry, as JSON lines')
    .option('--out <file>', 'write to this file instead of standard output')
    .action((options: { out?: string }) =>
      withRedis(async ({ store, manager }) => {
        // A file is written under a temporary name and renamed once complete: a failed export
        // never leaves a file that looks like a whole backup.
        const temporary = options.out ? `${options.out}.${process.pid}.tmp` : undefined;
        const out = temporary ? await openForWriting(temporary) : process.stdout;
        try {
          const bar = process.stderr.isTTY
            ? progress((await store.purge({ dryRun: true })).length)
            : undefined;
          let count = 0;
          const corrupt: string[] = [];
          for await (const line of exportSessions(store, {
            cipher: manager.cipher,
            onCorrupt: (id) => corrupt.push(id),
          })) {
            await writeLine(out, JSON.stringify(line));
            count++;
            bar?.update(count);
          }
          bar?.stop();
          if (temporary && options.out) {
            out.end();
            await once(out, 'finish');
            await rename(temporary, options.out);
          }
          const skipped =
            corrupt.length > 0
              ? `; ${corrupt.length} unreadable skipped: ${corrupt.slice(0, 5).join(', ')}`
              : '';
          process.stderr.write(`exported ${count} session(s)${skipped}\n`);
        } finally {
          if (temporary) await rm(temporary, { force: true });
        }
      }),
    );

  sessions
    .command('import')
    .argument('<file>', 'JSON lines written by export; - for standard input')
    .description('write the sessions back with their expiry, never over one updated later')
    .action((file: string) =>
      withRedis(async ({ store, config, manager }) => {
        const lines = async () => {
          if (file === '-') return createInterface({ input: process.stdin });
          const info = await stat(file).catch(() => {
            throw new CliError(`cannot read ${file}: no such file`, 2);
          });
          if (!info.isFile()) throw new CliError(`cannot read ${file}: not a file`, 2);
          return createInterface({ input: createReadStream(file) });
        };
        let bar: SingleBar | undefined;
        if (file !== '-' && process.stderr.isTTY) {
          let total = 0;
          for await (const _ of await lines()) total++;
          bar = progress(total);
        }
        const report = await importSessions(store, await lines(), {
          defaultTtl: config.sessionTtl,
          maxHistoryMessages: config.maxHistoryMessages,
          maxBytes: config.sessionMaxBytes,
          cipher: manager.cipher,
          onProgress: (done) => bar?.update(done),
        });
        bar?.stop();
        process.stderr.write(
          `imported ${report.imported}, skipped ${report.skipped} (updated later in the store), ` +
            `expired ${report.expired}, failed ${report.failed.length}\n`,
        );
        for (const { line, reason } of report.failed.slice(0, 20))
          process.stderr.write(`  line ${line}: ${reason}\n`);
        if (report.failed.length > 0)
          throw new CliError(`${report.failed.length} line(s) could not be imported`);
      }),
    );

  sessions
    .command('purge')
    .description('delete every key under REDIS_KEY_PREFIX (SCAN + UNLINK, never FLUSHDB)')
    .option('--yes', 'really delete; without it, only show what would be deleted')
    .action((options: { yes?: boolean }) =>
      withRedis(async ({ store, config }) => {
        const keys = await store.purge({ dryRun: !options.yes });
        if (options.yes) {
          await writeLine(
            process.stdout,
            `deleted ${keys.length} key(s) under "${config.keyPrefix}"`,
          );
          return;
        }
        await writeLine(
          process.stdout,
          `would delete ${keys.length} key(s) under "${config.keyPrefix}"${keys.length > 0 ? `, e.g. ${keys.slice(0, 5).join(', ')}` : ''}`,
        );
        await writeLine(process.stdout, 'nothing deleted: run again with --yes to delete them');
      }),
    );
}
