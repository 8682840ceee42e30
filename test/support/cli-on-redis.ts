/**
 * `cql-agent` as a child process on the enclosing describe()'s private redis-server, for the
 * tests that attack it with hostile paths and files: the run itself, sessions to seed, and the
 * checks every refusal shares (one line, no stack trace, Redis not contacted).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../../src/texts/cli.js';
import { storedRecord } from './fixtures.js';
import { type RedisFixture, useRedisServer } from './redis-fixture.js';
import { type Run, runNode } from './run-process.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const TSX = import.meta.resolve('tsx');

/** A stored session in the format every version reads, as JSON. */
export function storedSession(problem = 'a pia entupiu'): string {
  return JSON.stringify(storedRecord(problem));
}

/** One line of an export file. */
export const exportLine = (id: string, expiry: object) =>
  `{"session_id":"${id}",${JSON.stringify(expiry).slice(1, -1)},"session":${storedSession()}}`;

/** One line, `cql-agent: ` first, and no trace of a stack. */
export function assertOneLine(run: Run, what: string): string {
  const line = run.stderr.trimEnd();
  assert.equal(line.split('\n').length, 1, `${what}: ${run.stderr}`);
  assert.ok(line.startsWith(ERRORS.prefix), `${what}: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at |Error:/, `${what}: no stack trace`);
  return line;
}

export interface CliOnRedis {
  readonly redis: RedisFixture;
  /** The working folder of the runs, made in before() and removed in after(). */
  readonly cwd: string;
  /** Runs `cql-agent <args>` on the private Redis (USE_REDIS=true), `env` added. */
  run(args: string[], env?: Record<string, string>, input?: string): Promise<Run>;
  /** Connections Redis has accepted so far: unchanged means a command never reached it. */
  connections(): Promise<number>;
  /** Stores these sessions straight into Redis, for 10 minutes. */
  seed(...ids: string[]): Promise<void>;
}

/** A private redis-server and a working folder for the enclosing describe(). */
export function useCliOnRedis(folderPrefix: string): CliOnRedis {
  const redis = useRedisServer();
  let cwd: string | undefined;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), folderPrefix));
  });
  after(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });
  const folder = () => {
    if (cwd === undefined) throw new Error('the CLI fixture is used outside its tests');
    return cwd;
  };
  return {
    redis,
    get cwd() {
      return folder();
    },
    run: (args, env = {}, input) =>
      runNode(['--import', TSX, MAIN, ...args], {
        cwd: folder(),
        env: { USE_REDIS: 'true', REDIS_URL: redis.server.url(), ...env },
        input,
      }),
    connections: async () =>
      Number(/total_connections_received:(\d+)/.exec(await redis.raw.info('stats'))?.[1]),
    seed: async (...ids) => {
      for (const id of ids) {
        await redis.raw.set(`cql:session:${id}`, storedSession(), {
          expiration: { type: 'EX', value: 600 },
        });
      }
    },
  };
}
