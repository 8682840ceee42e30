/**
 * Listing at scale: 200,000 sessions in a private redis-server (realistic values, 2 to 20
 * messages, written with pipelined SETs), then the first page of 100 through the HTTP API
 * (`GET /api/v1/chat/sessions?limit=100` with the admin key, the server listening on a free
 * port) and `cql-agent sessions stats`, each next to a baseline measured in the same run.
 * Run with `npm run bench:listing` (BENCH_SESSIONS, BENCH_PAGE_SAMPLES to change the run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { createApi } from '../src/api/create-api.js';
import { countSessions } from '../src/cli/session-counts.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { encodeSession, type SessionRecord } from '../src/sessions/codec.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import { testResponder } from '../test/support/fixtures.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { runNode } from '../test/support/run-process.js';
import { measure, type Stat } from './measure.js';
import { conversation, openApp, TTL } from './production.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200_000);
const PAGE_SAMPLES = Number(process.env.BENCH_PAGE_SAMPLES ?? 300);
const PREFIX = 'cql:session:';
/** The command as an operator runs it: the built package (`npm run build` first). */
const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const limits = { maxHistoryMessages: 100, maxBytes: 262144 };

/** Conversations of 1 to 10 turns (2 to 20 messages), one of them resolved, as records. */
async function templates(): Promise<SessionRecord[]> {
  const records: SessionRecord[] = [];
  for (let turns = 1; turns <= 10; turns++) {
    const agent = await conversation(turns);
    if (turns === 2) await agent.chat('sim');
    const s = agent.snapshot();
    records.push({
      schema_version: 1,
      version: turns,
      state: s.state,
      current_attempt: s.currentAttempt,
      max_attempts: s.maxAttempts,
      use_rag: s.useRag,
      use_web_search: s.useWebSearch,
      created_at: '',
      updated_at: '',
      reset_at: null,
      token_sha256: null,
      topic: null,
      problem: s.problem,
      conversation_history: [...s.history],
    });
  }
  return records;
}

/** Writes `count` sessions with pipelined SETs; returns the bytes written. */
async function load(url: string, count: number): Promise<number> {
  const raw = createClient({ url });
  await raw.connect();
  const records = await templates();
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let bytes = 0;
  try {
    for (let first = 0; first < count; first += 1000) {
      const pipeline = raw.multi();
      for (let i = first; i < Math.min(first + 1000, count); i++) {
        const template = records[i % records.length] as SessionRecord;
        const at = new Date(start + i * 1000).toISOString();
        const { json } = encodeSession(
          `s-${i}`,
          {
            ...template,
            created_at: at,
            updated_at: at,
            token_sha256: randomBytes(32).toString('hex'),
          },
          limits,
        );
        bytes += json.length;
        pipeline.set(`${PREFIX}s-${i}`, json, { expiration: { type: 'EX', value: TTL } });
      }
      await pipeline.execAsPipeline();
    }
  } finally {
    await raw.close();
  }
  return bytes;
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await run();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

/** Seconds of CPU the redis-server process has used (INFO cpu). */
async function redisCpu(client: { info(section: string): Promise<string> }): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Wall time, and the CPU this process and redis-server used meanwhile: on a busy machine the
 * CPU tells what the work costs, the wall time also how long it waited for a core. */
async function costed<T>(
  client: { info(section: string): Promise<string> },
  run: () => Promise<T>,
): Promise<{ ms: number; nodeCpuMs: number; redisCpuMs: number; result: T }> {
  const redisBefore = await redisCpu(client);
  const cpu = process.cpuUsage();
  const { ms, result } = await timed(run);
  const used = process.cpuUsage(cpu);
  const redisCpuMs = ((await redisCpu(client)) - redisBefore) * 1000;
  return { ms, nodeCpuMs: (used.user + used.system) / 1000, redisCpuMs, result };
}

const cost = (c: { ms: number; nodeCpuMs: number; redisCpuMs: number }) =>
  `${c.ms.toFixed(0)} ms (CPU: this process ${c.nodeCpuMs.toFixed(0)} ms, redis-server ${c.redisCpuMs.toFixed(0)} ms)`;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const stat = (s: Stat) => `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`;

const server = await startRedisServer();
const cwd = await mkdtemp(join(tmpdir(), 'cql-listing-'));
try {
  const url = server.url(0);
  console.log(`node ${process.version}, redis-server on 127.0.0.1:${server.port}`);
  const loading = await timed(() => load(url, SESSIONS));
  console.log(
    `loaded ${SESSIONS} sessions (${(loading.result / 1024 / 1024).toFixed(0)} MB) in ${ms(loading.ms)}`,
  );

  // The first page through the HTTP API, next to the raw client listing 100 sessions whole.
  const adminKey = randomBytes(24).toString('base64url');
  const config = loadConfig({
    env: { USE_REDIS: 'true', REDIS_URL: url, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'silent' },
    envFile: false,
  });
  const api = await createApi({
    config,
    logger: createLogger({ level: 'silent' }),
    responder: await testResponder(),
  });
  const address = await api.listen({ host: '127.0.0.1', port: 0 });
  const raw = createClient({ url });
  await raw.connect();
  try {
    const firstPage = async () => {
      const response = await fetch(`${address}/api/v1/chat/sessions?limit=100`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      const body = (await response.json()) as { total?: number };
      if (response.status !== 200 || (body.total ?? 0) < 100) {
        throw new Error(`first page: HTTP ${response.status}, ${body.total} sessions`);
      }
    };
    const rawPage = async () => {
      const { keys } = await raw.scan('0', { MATCH: `${PREFIX}*`, COUNT: 100 });
      const pipeline = raw.multi();
      for (const key of keys) pipeline.get(key).ttl(key);
      const replies = await pipeline.execAsPipeline();
      for (let i = 0; i < replies.length; i += 2) JSON.parse(String(replies[i]));
    };
    const [page, rawList] = await measure(PAGE_SAMPLES, [firstPage, rawPage]);
    console.log(
      `first page of 100 through the HTTP API: ${stat(page)} (goal p50 <= 20 ms: ${page.p50 <= 20 ? 'met' : 'MISSED'})`,
    );
    console.log(`  baseline, raw SCAN COUNT 100 + GET + TTL + parse: ${stat(rawList)}`);
  } finally {
    await raw.close();
    await api.close();
  }

  // `cql-agent sessions stats`: the command, start to end; the counting alone, in process; and
  // the way it counted before (every head through the manager's listing), in the same run.
  const command = await timed(() =>
    runNode([MAIN, 'sessions', 'stats'], {
      cwd,
      env: { USE_REDIS: 'true', REDIS_URL: url },
    }),
  );
  if (command.result.code !== 0) throw new Error(`sessions stats: ${command.result.stderr}`);
  const counted = /^sessões +(\d+)$/m.exec(command.result.stdout)?.[1];
  const startup = await timed(() => runNode([MAIN, '--version'], { cwd, env: {} }));
  const store = await RedisSessionStore.connect({ url, commandTimeoutMs: 5000 });
  const info = createClient({ url });
  await info.connect();
  const counting = await costed(info, () => countSessions(store, { cipher: undefined }));
  await store.close();
  const app = await openApp({
    USE_REDIS: 'true',
    REDIS_URL: url,
    REDIS_COMMAND_TIMEOUT_MS: '5000',
  });
  const before = await costed(info, async () => {
    const byState = new Map<string, number>();
    for (const s of await app.manager.listSessions()) {
      byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
    }
    return byState;
  });
  await app.close();
  await info.close();
  console.log(
    `sessions stats over ${counted} sessions: ${ms(command.ms)} start to end (goal <= 3000 ms: ${command.ms <= 3000 ? 'met' : 'MISSED'}), of which ${ms(startup.ms)} is starting the command (--version)`,
  );
  console.log(`  counting alone, in process: ${cost(counting)}, ${counting.result.total} sessions`);
  console.log(
    `  baseline, every head through the manager's listing (how stats counted before): ${cost(before)}`,
  );
} finally {
  await rm(cwd, { recursive: true, force: true });
  await server.stop();
}
