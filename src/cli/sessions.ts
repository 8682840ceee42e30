/**
 * `cql-agent sessions ...`: operator commands over the sessions in Redis, with the service's
 * configuration. They talk to Redis directly (no fallback to memory: an operator must know when
 * Redis is unreachable) and never send KEYS or FLUSHDB.
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { AtomicFile } from '../files/atomic-file.js';
import { NotARegularFileError } from '../files/file-kind.js';
import { openRegularFile } from '../files/open-regular-file.js';
import { countLines, readLines } from '../files/read-lines.js';
import { createLogger } from '../logger.js';
import { cipherFor, type SessionCipher } from '../sessions/cipher.js';
import { decodeSession, type SessionRecord } from '../sessions/codec.js';
import { SessionError, StoreUnavailableError } from '../sessions/errors.js';
import type { SessionManager } from '../sessions/manager.js';
import { redisStoreOptions } from '../sessions/open-store.js';
import { RedisSessionStore } from '../sessions/stores/redis.js';
import { importSessions, maxImportLineBytes } from '../sessions/transfer.js';
import { ERRORS, HELP, PLACEHOLDERS, REPORTS, systemReason } from '../texts/cli.js';
import { positiveNumber, sessionIdArgument } from './arguments.js';
import { CliError } from './cli-error.js';
import { detailOf, importProblemText, oneLine, sessionErrorText } from './failure.js';
import { countSessions } from './session-counts.js';

/** Above this many sessions, a terminal gets a progress bar. */
const PROGRESS_THRESHOLD = 1000;

/** Sessions asked for at a time by `sessions list`. */
const LIST_PAGE = 1000;

/** Failed import lines listed one by one; the rest are only counted. */
const FAILED_LINES_SHOWN = 20;

interface Context {
  config: Config;
  /** The Redis store itself: operator commands read raw values and purge by prefix. */
  store: RedisSessionStore;
  manager: SessionManager;
  /** Opens encrypted sessions; undefined when no key is configured. */
  cipher: SessionCipher | undefined;
}

/** The Redis store of the service's configuration, for an operator (a longer deadline). */
async function openRedis(): Promise<{ config: Config; store: RedisSessionStore }> {
  const config = loadConfig();
  if (!config.useRedis) throw new CliError(ERRORS.redisRequired, 2);
  const logger = createLogger({ level: 'silent' });
  const store = await RedisSessionStore.connect({
    ...redisStoreOptions(config, logger),
    commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, 5000),
  }).catch((error: Error) => {
    // The store's own wording around the reason ("The redis session store failed...") is left out.
    const reason = error instanceof StoreUnavailableError ? detailOf(error) : error.message;
    throw new CliError(ERRORS.redisUnreachable(config.redis.description, reason), 2);
  });
  return { config, store };
}

async function withRedis<T>(run: (context: Context) => Promise<T>): Promise<T> {
  const { config, store } = await openRedis();
  const logger = createLogger({ level: 'silent' });
  // The application wired as the server wires it, over this store (no fallback to memory);
  // loaded here, as the commands that read the store alone start faster without it.
  const { createApp } = await import('../app.js');
  const app = await createApp({ config, logger, store }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  try {
    return await run({
      config,
      store,
      manager: app.manager,
      cipher: cipherFor(config.encryptionKeys),
    });
  } finally {
    await app.close();
  }
}

/** The store alone, for a command that reads stored values and needs no application (its
 * responder and knowledge base take a moment to load). */
async function withStore<T>(run: (context: Omit<Context, 'manager'>) => Promise<T>): Promise<T> {
  const { config, store } = await openRedis();
  try {
    return await run({ config, store, cipher: cipherFor(config.encryptionKeys) });
  } finally {
    await store.close();
  }
}

function progress(total: number): SingleBar | undefined {
  if (!process.stderr.isTTY || total <= PROGRESS_THRESHOLD) return undefined;
  const bar = new SingleBar({ stream: process.stderr, format: REPORTS.progress });
  bar.start(total, 0);
  return bar;
}

const reasonOf = (error: unknown) =>
  systemReason((error as NodeJS.ErrnoException).code, (error as Error).message);

/** The file an export writes, checked and created before anything is read from Redis. */
async function createExportFile(path: string): Promise<AtomicFile> {
  try {
    return await AtomicFile.create(path);
  } catch (error) {
    if (error instanceof NotARegularFileError)
      throw new CliError(ERRORS.notARegularFile(path, error.kind), 2);
    throw new CliError(ERRORS.cannotWrite(path, reasonOf(error)), 2);
  }
}

/** A write or the final rename failed: the temporary file is gone, the target untouched. */
function writeFailure(path: string, error: unknown): CliError {
  if (error instanceof NotARegularFileError)
    return new CliError(ERRORS.notARegularFile(path, error.kind), 2);
  return new CliError(ERRORS.cannotWrite(path, reasonOf(error)), 1);
}

/** The file an import reads, opened before Redis is contacted. */
async function openImportFile(path: string): Promise<FileHandle> {
  try {
    return await openRegularFile(path, { followSymlinks: true });
  } catch (error) {
    if (error instanceof NotARegularFileError)
      throw new CliError(ERRORS.notAFileToRead(path, error.kind), 2);
    throw new CliError(ERRORS.cannotRead(path, reasonOf(error)), 2);
  }
}

async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

/** A table row, each cell padded to its column's width. */
function tableRow(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => cell.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
}

export function registerSessionCommands(program: Command): void {
  const sessions = program.command('sessions').description(HELP.sessions);

  sessions
    .command('list')
    .description(HELP.list)
    .option('--json', HELP.listJson)
    .option(`--limit ${PLACEHOLDERS.limit}`, HELP.listLimit, positiveNumber)
    .action((options: { json?: boolean; limit?: number }) =>
      withRedis(async ({ manager }) => {
        // A page at a time, in the store's order, each printed as it comes: the listing never
        // holds more than one page, however many sessions there are.
        const limit = options.limit ?? Number.POSITIVE_INFINITY;
        let widths: number[] | undefined;
        let listed = 0;
        let cursor: string | undefined;
        do {
          const page = await manager.listPage({
            limit: Math.min(limit - listed, LIST_PAGE),
            cursor,
          });
          // (A page may hold a few more than asked: the limit stops the listing.)
          const sessions = page.sessions.slice(0, limit - listed);
          listed += sessions.length;
          cursor = page.cursor;
          if (options.json) {
            for (const s of sessions) {
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
            continue;
          }
          const rows: (readonly string[])[] = sessions.map((s) => [
            s.sessionId,
            s.state,
            String(s.currentAttempt),
            s.ttl === null ? '-' : `${s.ttl}s`,
          ]);
          if (widths === undefined) {
            // Columns as wide as the header and the first page need.
            const first = [REPORTS.listHeader, ...rows];
            widths = REPORTS.listHeader.map((_, i) =>
              Math.max(...first.map((row) => (row[i] ?? '').length)),
            );
            rows.unshift(REPORTS.listHeader);
          }
          for (const row of rows) await writeLine(process.stdout, tableRow(row, widths));
        } while (cursor !== undefined && listed < limit);
        if (!options.json) {
          if (widths === undefined) await writeLine(process.stdout, REPORTS.listHeader.join('  '));
          await writeLine(process.stdout, REPORTS.sessions(listed));
        }
      }),
    );

  sessions
    .command('show')
    .argument(PLACEHOLDERS.sessionId, HELP.sessionId, sessionIdArgument)
    .description(HELP.show)
    .action((id: string) =>
      withRedis(async ({ store, cipher }) => {
        // Read only: an unreadable value is reported, not moved aside as a request would.
        const [raw, ttl] = await Promise.all([store.get(id), store.ttl(id)]);
        if (raw === null) throw new CliError(ERRORS.sessionNotFound(id));
        let record: SessionRecord;
        try {
          record = decodeSession(id, raw, cipher);
        } catch (error) {
          if (error instanceof SessionError) throw new CliError(sessionErrorText(error));
          throw error;
        }
        await writeLine(
          process.stdout,
          JSON.stringify({ session_id: id, ttl, ...record }, null, 2),
        );
      }),
    );

  sessions
    .command('ttl')
    .argument(PLACEHOLDERS.sessionId, HELP.sessionId, sessionIdArgument)
    .description(HELP.ttl)
    .action((id: string) =>
      withRedis(async ({ store }) => {
        if (!(await store.exists(id))) throw new CliError(ERRORS.sessionNotFound(id));
        const ttl = await store.ttl(id);
        await writeLine(process.stdout, ttl === null ? REPORTS.noExpiry : String(ttl));
      }),
    );

  sessions
    .command('delete')
    .argument(PLACEHOLDERS.sessionId, HELP.sessionId, sessionIdArgument)
    .description(HELP.delete)
    .action((id: string) =>
      withRedis(async ({ manager }) => {
        if (!(await manager.deleteSession(id))) throw new CliError(ERRORS.sessionNotFound(id));
        await writeLine(process.stdout, REPORTS.deleted(id));
      }),
    );

  sessions
    .command('stats')
    .description(HELP.stats)
    .action(() =>
      withStore(async ({ store, cipher }) => {
        // Asked first: the hit ratio is the service's, before this command's own reads, and the
        // scan for quarantined values runs while the sessions are counted.
        const status = store.status();
        status.catch(() => {});
        // Progress against the keys in Redis (known at once with DBSIZE; some may not be
        // sessions), ending at the count of keys examined.
        const bar = process.stderr.isTTY ? progress((await store.keyCount()) ?? 0) : undefined;
        let examined = 0;
        const counts = await countSessions(store, {
          cipher,
          onProgress: (scanned) => {
            examined = scanned;
            bar?.update(scanned);
          },
        });
        if (bar) {
          bar.setTotal(examined);
          bar.update(examined);
          bar.stop();
        }
        const redis = await status;
        const byState = counts.byState;
        const mib = (bytes = 0) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
        const lookups = (redis.keyspaceHits ?? 0) + (redis.keyspaceMisses ?? 0);
        const label = REPORTS.stats;
        const row = (name: string, value: string | number) => `${name.padEnd(18)}${value}`;
        const lines = [
          row(label.backend, 'redis'),
          row(label.sessions, counts.total),
          ...[...byState].sort().map(([state, n]) => `  ${row(state, n)}`),
          row(label.usedMemory, mib(redis.usedMemoryBytes)),
          row(
            label.maxmemory,
            `${redis.maxmemoryBytes ? mib(redis.maxmemoryBytes) : label.noLimit} (${redis.maxmemoryPolicy ?? '?'})`,
          ),
          row(label.evictedKeys, redis.evictedKeys ?? 0),
          row(
            label.hitRatio,
            lookups === 0 ? '-' : `${(((redis.keyspaceHits ?? 0) / lookups) * 100).toFixed(1)}%`,
          ),
          row(label.quarantined, redis.quarantined ?? '-'),
        ];
        for (const line of lines) await writeLine(process.stdout, line);
      }),
    );

  sessions
    .command('export')
    .description(HELP.export)
    .option(`--out ${PLACEHOLDERS.file}`, HELP.exportOut)
    .action(async (options: { out?: string }) => {
      const path = options.out === '-' ? undefined : options.out;
      // The target is checked and its temporary file created before Redis is contacted: a
      // refused path reads nothing. A file is complete when it appears under its name.
      const file = path === undefined ? undefined : await createExportFile(path);
      const write = file
        ? async (line: string) => {
            try {
              await file.write(`${line}\n`);
            } catch (error) {
              throw writeFailure(file.path, error);
            }
          }
        : (line: string) => writeLine(process.stdout, line);
      try {
        await withRedis(async ({ store, manager }) => {
          const bar = process.stderr.isTTY
            ? progress((await store.purge({ dryRun: true })).length)
            : undefined;
          let count = 0;
          const unreadable: string[] = [];
          for await (const line of manager.export({ onCorrupt: (id) => unreadable.push(id) })) {
            await write(JSON.stringify(line));
            count++;
            bar?.update(count);
          }
          bar?.stop();
          if (file) {
            try {
              await file.commit();
            } catch (error) {
              throw writeFailure(file.path, error);
            }
          }
          process.stderr.write(`${REPORTS.exported(count, unreadable)}\n`);
        });
      } finally {
        await file?.discard();
      }
    });

  sessions
    .command('import')
    .argument(PLACEHOLDERS.file, HELP.importFile)
    .description(HELP.import)
    .action(async (path: string) => {
      const file = path === '-' ? undefined : await openImportFile(path);
      try {
        await withRedis(async ({ store, config, cipher }) => {
          const source = () =>
            file ? file.createReadStream({ start: 0, autoClose: false }) : process.stdin;
          let bar: SingleBar | undefined;
          if (file && process.stderr.isTTY) bar = progress(await countLines(source()));
          const lines = readLines(source(), {
            maxLineBytes: maxImportLineBytes(config.sessionMaxBytes),
          });
          // Each line's own failure is in the report: what escapes is the input failing.
          const report = await importSessions(store, lines, {
            defaultTtl: config.sessionTtl,
            maxHistoryMessages: config.maxHistoryMessages,
            maxBytes: config.sessionMaxBytes,
            cipher,
            onProgress: (done) => bar?.update(done),
          }).catch((error: unknown) => {
            throw new CliError(
              file
                ? ERRORS.cannotRead(path, reasonOf(error))
                : ERRORS.cannotReadStandardInput(reasonOf(error)),
            );
          });
          bar?.stop();
          process.stderr.write(
            `${REPORTS.imported({ ...report, failed: report.failed.length })}\n`,
          );
          for (const { line, problem } of report.failed.slice(0, FAILED_LINES_SHOWN))
            process.stderr.write(
              `${REPORTS.failedLine(line, oneLine(importProblemText(problem)))}\n`,
            );
          if (report.failed.length > 0)
            throw new CliError(ERRORS.importFailed(report.failed.length));
        });
      } finally {
        await file?.close();
      }
    });

  sessions
    .command('purge')
    .description(HELP.purge)
    .option('--yes', HELP.purgeYes)
    .action((options: { yes?: boolean }) =>
      withRedis(async ({ store, config }) => {
        const keys = await store.purge({ dryRun: !options.yes });
        if (options.yes) {
          await writeLine(process.stdout, REPORTS.purged(keys.length, config.keyPrefix));
          return;
        }
        await writeLine(
          process.stdout,
          REPORTS.wouldPurge(keys.length, config.keyPrefix, keys.slice(0, 5)),
        );
        await writeLine(process.stdout, REPORTS.nothingPurged);
      }),
    );
}
