/**
 * Per-turn costs of the production path, the inputs of docs/capacity.md: Redis commands, Redis
 * CPU and bytes per chat turn; the API process's CPU per turn at half its maximum rate, and that
 * maximum; the same with longer conversations, with encryption at rest, and with turns waiting on
 * a (fake) model; Redis memory per session as conversations grow; the API's memory with a full
 * session copy. Drives `cql-agent serve` processes (USE_REDIS=true) against a private
 * redis-server. Run with `npm run bench:capacity` (BENCH_ROUNDS, BENCH_DURATION,
 * BENCH_MEMORY_SESSIONS, BENCH_MODEL_DELAY_MS change the run).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import autocannon from 'autocannon';
import { type ApiProcess, startApiProcess } from '../test/support/api-process.js';
import { DESCRIPTIONS } from '../test/support/descriptions.js';
import { type Behaviour, FakeServer, reply } from '../test/support/fake-llm.js';
import { startRedisServer } from '../test/support/redis-server.js';

/** Rounds of the saturated and the steady load, each with its own figures (ranges are printed). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Seconds of each load row. */
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
/** autocannon connections: conversations in progress at once, one request in flight each. */
const CONNECTIONS = 50;
/** The steady load, as a share of the saturated rate measured in the same round. */
const STEADY_SHARE = 0.5;
/** Conversations written for each history length of the Redis memory rows. */
const SESSIONS_PER_LENGTH = Number(process.env.BENCH_MEMORY_SESSIONS ?? 2000);
/** Sessions the API's memory copy holds (MEMORY_MAX_SESSIONS, its default). */
const COPY_SESSIONS = 10000;
/** Requests in flight while writing the memory rows' conversations. */
const WRITERS = 16;
const KEY_PREFIX = 'cql:session:';
const CHAT = '/api/v1/chat/message';
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The model row: a fake OpenAI-compatible server answers each solution after this long, and
 * this many conversations wait on it at once (the rate follows: connections / mean latency). */
const MODEL_DELAY_MS = Number(process.env.BENCH_MODEL_DELAY_MS ?? 3000);
const MODEL_CONNECTIONS = 300;
/** About the length of a model's step-by-step solution. */
const MODEL_REPLY = Array.from(
  { length: 8 },
  (_, i) =>
    `Passo ${i + 1}: feche o registro geral, retire a peça com cuidado e confira se a vedação ` +
    'está gasta; se estiver, troque-a por uma igual.',
).join('\n');

/** Turns of the load rows' conversations (a problem and three "não", the last answered with a
 * professional), and of the longer ones of docs/capacity.md's plan (5 minutes, one message every
 * 30 s). */
const TURNS = 4;
const LONG_TURNS = 10;

/** Message `i` of conversation `n`: a problem, then "não" until the agent gives up after three
 * attempts, then another problem, and so on. */
function messageAt(n: number, i: number): string {
  return i % 4 === 0
    ? `${DESCRIPTIONS[(n + i) % DESCRIPTIONS.length]?.[0]}, desde ${n % 28} de março`
    : 'não';
}

function conversation(n: number, turns: number): string[] {
  return Array.from({ length: turns }, (_, i) => messageAt(n, i));
}

// --- what the processes spent ------------------------------------------------------------

/** CPU seconds (user + system, every thread) a process has used, from /proc/<pid>/stat. */
function processCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** Resident memory of a process, bytes: now (VmRSS) or its peak so far (VmHWM). */
function processRss(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'));
  if (!line) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(line[1]) * 1024;
}

/** The benchmark's own connection: INFO, FLUSHALL, SCAN, STRLEN, MEMORY USAGE. */
const connectRedis = (url: string) => createClient({ url });
type Redis = ReturnType<typeof connectRedis>;

/** Calls of one command, and the time Redis spent executing them (I/O not included). */
interface Command {
  calls: number;
  usec: number;
}

interface RedisCounters {
  /** Calls by command (lower case); `info`, `scan` and `hgetall` left out: this benchmark's own. */
  calls: Map<string, Command>;
  cpuS: number;
  bytesIn: number;
  bytesOut: number;
  usedMemory: number;
  fragmentation: number;
}

async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const text = String(await redis.sendCommand(['INFO', 'commandstats', 'cpu', 'stats', 'memory']));
  const field = (name: string) => Number(text.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1]);
  const calls = new Map<string, Command>();
  for (const [, name = '', count, usec] of text.matchAll(
    /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm,
  )) {
    if (!/^(info|scan|hgetall)/.test(name))
      calls.set(name, { calls: Number(count), usec: Number(usec) });
  }
  return {
    calls,
    cpuS: field('used_cpu_sys') + field('used_cpu_user'),
    bytesIn: field('total_net_input_bytes'),
    bytesOut: field('total_net_output_bytes'),
    usedMemory: field('used_memory'),
    fragmentation: field('mem_fragmentation_ratio'),
  };
}

/** Turns the API saved, by its own count: the `turns|HH:MM` fields of the outcome counters'
 * day hashes (client counts miss the requests cut off at the end of a row). */
async function savedTurns(redis: Redis): Promise<number> {
  let turns = 0;
  for await (const page of redis.scanIterator({ MATCH: `${KEY_PREFIX}outcomes:*` })) {
    for (const key of page) {
      for (const [field, count] of Object.entries(await redis.hGetAll(key))) {
        if (field.startsWith('turns|')) turns += Number(count);
      }
    }
  }
  return turns;
}

/** What one INFO call itself adds to the byte counters, to take off every delta. */
async function infoOverhead(redis: Redis): Promise<{ bytesIn: number; bytesOut: number }> {
  const before = await redisCounters(redis);
  const after = await redisCounters(redis);
  return { bytesIn: after.bytesIn - before.bytesIn, bytesOut: after.bytesOut - before.bytesOut };
}

// --- load ----------------------------------------------------------------------------------

interface Context {
  n?: number;
  sessionId?: string;
  token?: string;
}

/** Each connection runs whole conversations of `turns` turns, one after another, carrying the
 * session id and token the first answer returns (autocannon clears the context at each loop). */
function conversationRequests(turns: number): autocannon.Request[] {
  let started = 0;
  const headers = { 'content-type': 'application/json' };
  const first: autocannon.Request = {
    method: 'POST',
    path: CHAT,
    headers,
    setupRequest: (request, context) => {
      const c = context as Context;
      c.n = started++;
      return { ...request, body: JSON.stringify({ message: messageAt(c.n, 0) }) };
    },
    onResponse: (status, body, context, responseHeaders) => {
      if (status !== 200) return;
      const c = context as Context;
      c.sessionId = (JSON.parse(body) as { session_id: string }).session_id;
      c.token = String(responseHeaders?.['x-session-token'] ?? '');
    },
  };
  const next = (i: number): autocannon.Request => ({
    method: 'POST',
    path: CHAT,
    setupRequest: (request, context) => {
      const c = context as Context;
      return {
        ...request,
        headers: { ...headers, 'x-session-token': c.token ?? '' },
        body: JSON.stringify({ message: messageAt(c.n ?? 0, i), session_id: c.sessionId }),
      };
    },
  });
  return [first, ...Array.from({ length: turns - 1 }, (_, i) => next(i + 1))];
}

/** Chat requests the API has answered so far, by its own count. */
function answered(api: ApiProcess): Promise<number> {
  return apiMetric(
    api,
    'http_requests_total{method="POST",route="/api/v1/chat/message",status_code="200"}',
  );
}

/**
 * Waits until the API has answered every request a load left in flight (autocannon stops
 * without waiting for them; the server still runs those turns): until its count of answers has
 * not moved for `quietMs`, longer than any turn takes.
 */
async function settle(api: ApiProcess, quietMs: number): Promise<void> {
  let last = await answered(api);
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await sleep(250);
    const now = await answered(api);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  // The outcome counters are written just after each answer.
  await sleep(100);
}

interface Load {
  saturated: LoadRow[];
  /** At STEADY_SHARE of the saturated rate of the same round: TURNS-turn conversations, in clear
   * and encrypted at rest, and LONG_TURNS-turn ones in clear. */
  steady: LoadRow[];
  long: LoadRow[];
  encrypted: LoadRow[];
  /** TURNS-turn conversations whose solutions wait MODEL_DELAY_MS for a model, MODEL_CONNECTIONS
   * at once; and the peak resident memory of that API process. */
  model: LoadRow[];
  modelPeakRss?: number;
}

interface LoadRow {
  /** Turns saved by the API during the row. */
  turns: number;
  failures: number;
  rate: number;
  p50: number;
  p99: number;
  apiCpuMs: number;
  /** Share of one core the API process used. */
  apiCore: number;
  loaderCpuMs: number;
  redisCpuUs: number;
  redisCore: number;
  bytesIn: number;
  bytesOut: number;
  /** Per turn. */
  calls: Map<string, Command>;
}

async function loadRow(
  api: ApiProcess,
  redis: Redis,
  overhead: { bytesIn: number; bytesOut: number },
  {
    rate,
    turns: conversationTurns = TURNS,
    connections = CONNECTIONS,
    quietMs = 1000,
  }: { rate?: number; turns?: number; connections?: number; quietMs?: number } = {},
): Promise<LoadRow> {
  const pid = api.child.pid as number;
  // A process that sat idle while the others ran starts cold (caches, JIT): warm it first.
  const requests = conversationRequests(conversationTurns);
  const overallRate = rate !== undefined ? { overallRate: rate } : {};
  await autocannon({ url: api.base, connections, duration: 2, requests, ...overallRate });
  await settle(api, quietMs);
  const turnsBefore = await savedTurns(redis);
  const redisBefore = await redisCounters(redis);
  const apiBefore = processCpuS(pid);
  const loaderBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await autocannon({
    url: api.base,
    connections,
    duration: DURATION_S,
    requests,
    ...overallRate,
  });
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  await settle(api, quietMs);
  const apiCpuS = processCpuS(pid) - apiBefore;
  const loader = process.cpuUsage(loaderBefore);
  const redisAfter = await redisCounters(redis);
  const turns = (await savedTurns(redis)) - turnsBefore;
  const calls = new Map<string, Command>();
  for (const [name, after] of redisAfter.calls) {
    const before = redisBefore.calls.get(name) ?? { calls: 0, usec: 0 };
    if (after.calls > before.calls) {
      calls.set(name, {
        calls: (after.calls - before.calls) / turns,
        usec: (after.usec - before.usec) / turns,
      });
    }
  }
  const redisCpuS = redisAfter.cpuS - redisBefore.cpuS;
  return {
    turns,
    failures: result.non2xx + result.errors + result.timeouts,
    rate: result['2xx'] / DURATION_S,
    p50: result.latency.p50,
    p99: result.latency.p99,
    apiCpuMs: (apiCpuS * 1000) / turns,
    apiCore: apiCpuS / wallS,
    loaderCpuMs: (loader.user + loader.system) / 1000 / turns,
    redisCpuUs: (redisCpuS * 1e6) / turns,
    redisCore: redisCpuS / wallS,
    bytesIn: (redisAfter.bytesIn - redisBefore.bytesIn - overhead.bytesIn) / turns,
    bytesOut: (redisAfter.bytesOut - redisBefore.bytesOut - overhead.bytesOut) / turns,
    calls,
  };
}

// --- conversations written one by one (exact counts, for the memory rows) -------------------

async function converse(base: string, messages: string[]): Promise<void> {
  let sessionId: string | undefined;
  let token: string | undefined;
  for (const message of messages) {
    const response = await fetch(base + CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { 'x-session-token': token }) },
      body: JSON.stringify({ message, ...(sessionId && { session_id: sessionId }) }),
    });
    if (!response.ok)
      throw new Error(`a turn answered ${response.status}: ${await response.text()}`);
    sessionId = ((await response.json()) as { session_id: string }).session_id;
    token ??= response.headers.get('x-session-token') ?? undefined;
  }
}

/** Writes `count` conversations of `turns` turns, WRITERS at a time; `first` numbers them. */
async function converseMany(base: string, count: number, turns: number, first = 0) {
  let next = 0;
  const writer = async () => {
    while (next < count) {
      const n = first + next++;
      await converse(base, conversation(n, turns));
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

async function sessionKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of redis.scanIterator({ MATCH: `${KEY_PREFIX}*`, COUNT: 1000 })) {
    keys.push(...page.filter((key) => !key.startsWith(`${KEY_PREFIX}outcomes:`)));
  }
  return keys;
}

interface MemoryPoint {
  /** Resident memory of the API process, bytes. */
  rss: number;
  /** V8 heap in use (live objects and garbage not yet collected), bytes. */
  heapUsed: number;
}

interface ApiMemory {
  /** Warmed up; with its session copy full; after twice as many sessions as the copy holds. */
  idle: MemoryPoint;
  full: MemoryPoint;
  past: MemoryPoint;
  /** Redis's used_memory_rss / used_memory after those sessions. */
  fragmentation: number;
  /** Over every API process: switches to the memory copy, and saves that met a newer version. */
  failovers: number;
  conflicts: number;
}

interface StoredRow {
  messages: number;
  storage: 'clear' | 'encrypted';
  sessions: number;
  perSession: number;
  value: number;
  memoryUsage: number;
  keyName: number;
}

/** Redis memory taken by `count` sessions of `messages` messages each, written through the API
 * on an emptied Redis; the value and Redis's own MEMORY USAGE from a sample of 200 keys. */
async function storedRow(
  base: string,
  redis: Redis,
  messages: number,
  count: number,
  storage: StoredRow['storage'],
) {
  await redis.sendCommand(['FLUSHALL', 'SYNC']);
  const before = (await redisCounters(redis)).usedMemory;
  await converseMany(base, count, messages / 2);
  const after = (await redisCounters(redis)).usedMemory;
  const keys = await sessionKeys(redis);
  if (keys.length !== count)
    throw new Error(`expected ${count} session keys, found ${keys.length}`);
  const sample = keys.slice(0, 200);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const lengths = await Promise.all(sample.map((key) => redis.strLen(key)));
  const usages = await Promise.all(
    sample.map(async (key) =>
      Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])),
    ),
  );
  return {
    messages,
    storage,
    sessions: count,
    perSession: (after - before) / count,
    value: mean(lengths),
    memoryUsage: mean(usages),
    keyName: mean(sample.map((key) => Buffer.byteLength(key))),
  } satisfies StoredRow;
}

// --- the run -----------------------------------------------------------------------------

const ADMIN_KEY = randomBytes(32).toString('base64url');

function apiEnv(redisUrl: string): Record<string, string> {
  return {
    USE_REDIS: 'true',
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    ADMIN_API_KEY: ADMIN_KEY,
    // Every load connection comes from 127.0.0.1.
    HTTP_MAX_CONNECTIONS_PER_IP: '1000',
    // A shared 2-core machine can stall a command past the default 500 ms; a failover to the
    // memory copy would leave Redis out of the figures (the table reports any that happened).
    REDIS_COMMAND_TIMEOUT_MS: '5000',
  };
}

/** A value of the API's /metrics (0 when the series was never written). */
async function apiMetric(api: ApiProcess, series: string): Promise<number> {
  const response = await fetch(`${api.base}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  const text = await response.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

interface Health {
  failovers: number;
  conflicts: number;
}

async function apiHealth(api: ApiProcess): Promise<Health> {
  return {
    failovers: await apiMetric(api, 'session_store_events_total{event="unavailable"}'),
    conflicts: await apiMetric(api, 'session_events_total{event="conflict"}'),
  };
}

async function memoryPoint(api: ApiProcess): Promise<MemoryPoint> {
  return {
    rss: processRss(api.child.pid as number),
    heapUsed: await apiMetric(api, 'nodejs_heap_size_used_bytes'),
  };
}

const server = await startRedisServer();
const redis = connectRedis(server.url());
await redis.connect();
try {
  const overhead = await infoOverhead(redis);
  const version = String(await redis.sendCommand(['INFO', 'server'])).match(/redis_version:(\S+)/);
  console.log(
    `node ${process.version}, redis ${version?.[1]}, ${ROUNDS} rounds of ${DURATION_S} s saturated ` +
      `and ${DURATION_S} s at ${STEADY_SHARE * 100}% of it, ${CONNECTIONS} connections, ` +
      `conversations of ${TURNS} turns (and ${LONG_TURNS})`,
  );

  // Each round: saturated, steady, and steady with longer conversations, in one API process; the
  // steady load again in one that encrypts at rest; and turns waiting on a model in a third.
  // Interleaved, so that the machine's noise hits them alike. The first two start with their
  // session copy full, as an instance that has run for a while (every new session then evicts
  // one from the copy).
  const load: Load = { saturated: [], steady: [], long: [], encrypted: [], model: [] };
  const clear = await startApiProcess(apiEnv(server.url()), { quiet: true });
  const sealed = await startApiProcess(
    { ...apiEnv(server.url()), SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
    { quiet: true },
  );
  const model = await FakeServer.start('openai');
  const slowly: Behaviour = (request, response, wire) => {
    const timer = setTimeout(() => reply(MODEL_REPLY)(request, response, wire), MODEL_DELAY_MS);
    response.on('close', () => clearTimeout(timer));
  };
  model.behave(slowly);
  const modelApi = await startApiProcess(
    { ...apiEnv(server.url()), LLM_PROVIDER: 'openai', OPENAI_BASE_URL: model.url },
    { quiet: true },
  );
  const stored: StoredRow[] = [];
  let health: Health[] = [];
  try {
    // Warm-up: JIT, connections, and the session copies filled.
    for (const api of [clear, sealed]) {
      const url = api.base;
      await autocannon({
        url,
        connections: CONNECTIONS,
        amount: COPY_SESSIONS + 1000,
        requests: conversationRequests(1),
      });
      await autocannon({
        url,
        connections: CONNECTIONS,
        duration: 3,
        requests: conversationRequests(TURNS),
      });
      await settle(api, 1000);
    }
    const url = modelApi.base;
    await autocannon({
      url,
      connections: MODEL_CONNECTIONS,
      duration: 3,
      requests: conversationRequests(TURNS),
    });
    await settle(modelApi, MODEL_DELAY_MS + 1000);
    model.clear();
    for (let round = 0; round < ROUNDS; round++) {
      const full = await loadRow(clear, redis, overhead);
      const rate = Math.round(full.rate * STEADY_SHARE);
      load.saturated.push(full);
      load.steady.push(await loadRow(clear, redis, overhead, { rate }));
      load.long.push(await loadRow(clear, redis, overhead, { rate, turns: LONG_TURNS }));
      load.encrypted.push(await loadRow(sealed, redis, overhead, { rate }));
      load.model.push(
        await loadRow(modelApi, redis, overhead, {
          connections: MODEL_CONNECTIONS,
          quietMs: MODEL_DELAY_MS + 1000,
        }),
      );
      model.clear();
      console.log(`round ${round + 1}: saturated ${Math.round(full.rate)} turns/s, steady ${rate}`);
    }
    stored.push(await storedRow(sealed.base, redis, 8, SESSIONS_PER_LENGTH, 'encrypted'));
    load.modelPeakRss = processRss(modelApi.child.pid as number, 'VmHWM');
    health = [await apiHealth(clear), await apiHealth(sealed), await apiHealth(modelApi)];
  } finally {
    await Promise.all([clear.stop(), sealed.stop(), modelApi.stop()]);
    await model.close();
  }

  // Memory, in a fresh API process: its own as its session copy fills, and Redis's per session
  // by history length.
  const fresh = await startApiProcess(apiEnv(server.url()), { quiet: true });
  let memory: ApiMemory;
  try {
    await converseMany(fresh.base, 200, 4);
    const idle = await memoryPoint(fresh);
    stored.unshift(await storedRow(fresh.base, redis, 8, COPY_SESSIONS, 'clear'));
    const full = await memoryPoint(fresh);
    await converseMany(fresh.base, COPY_SESSIONS, 4, COPY_SESSIONS);
    const past = await memoryPoint(fresh);
    const { fragmentation } = await redisCounters(redis);
    for (const messages of [2, 6, 20]) {
      stored.push(await storedRow(fresh.base, redis, messages, SESSIONS_PER_LENGTH, 'clear'));
    }
    health.push(await apiHealth(fresh));
    memory = {
      idle,
      full,
      past,
      fragmentation,
      failovers: health.reduce((sum, h) => sum + h.failovers, 0),
      conflicts: health.reduce((sum, h) => sum + h.conflicts, 0),
    };
  } finally {
    await fresh.stop();
  }

  printTable(load, memory, stored);
} finally {
  await redis.close();
  await server.stop();
}

// --- the table -----------------------------------------------------------------------------

function printTable(load: Load, memory: ApiMemory, stored: StoredRow[]): void {
  const { saturated, steady, long, encrypted, model } = load;
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const rows: string[][] = [];
  const ranged = (figure: string, unit: string, digits: number, values: number[]) =>
    rows.push([
      figure,
      median(values).toFixed(digits),
      `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`,
      unit,
    ]);
  const single = (figure: string, unit: string, digits: number, value: number) =>
    rows.push([figure, value.toFixed(digits), '-', unit]);
  const total = (row: LoadRow, field: keyof Command) =>
    [...row.calls.values()].reduce((sum, command) => sum + command[field], 0);
  type Pick = (row: LoadRow) => number;
  const loadFigures: Array<[string, string, number, LoadRow[], Pick]> = [
    ['max rate, one API process (saturated)', 'turns/s', 0, saturated, (r) => r.rate],
    ['  latency p50, saturated', 'ms', 0, saturated, (r) => r.p50],
    ['  latency p99, saturated', 'ms', 0, saturated, (r) => r.p99],
    ['  API process CPU, saturated', 'cores', 2, saturated, (r) => r.apiCore],
    ['  API CPU per turn, saturated', 'ms', 3, saturated, (r) => r.apiCpuMs],
    ['  Redis CPU per turn, saturated', 'µs', 1, saturated, (r) => r.redisCpuUs],
    ['steady rate (50% of the max)', 'turns/s', 0, steady, (r) => r.rate],
    ['  latency p50, steady', 'ms', 0, steady, (r) => r.p50],
    ['  latency p99, steady', 'ms', 0, steady, (r) => r.p99],
    ['  API CPU per turn, steady', 'ms', 3, steady, (r) => r.apiCpuMs],
    ['  API process CPU, steady', 'cores', 2, steady, (r) => r.apiCore],
    ['  load generator CPU per turn, steady', 'ms', 3, steady, (r) => r.loaderCpuMs],
    ['  Redis CPU per turn, steady', 'µs', 1, steady, (r) => r.redisCpuUs],
    ['  Redis server CPU, steady', 'cores', 3, steady, (r) => r.redisCore],
    ['  bytes sent to Redis per turn, steady', 'B', 0, steady, (r) => r.bytesIn],
    ['  bytes read from Redis per turn, steady', 'B', 0, steady, (r) => r.bytesOut],
    [
      `${LONG_TURNS}-turn conversations, same rate: API CPU per turn`,
      'ms',
      3,
      long,
      (r) => r.apiCpuMs,
    ],
    ['  latency p50, long', 'ms', 0, long, (r) => r.p50],
    ['  latency p99, long', 'ms', 0, long, (r) => r.p99],
    ['  Redis CPU per turn, long', 'µs', 1, long, (r) => r.redisCpuUs],
    ['  bytes sent to Redis per turn, long', 'B', 0, long, (r) => r.bytesIn],
    ['  bytes read from Redis per turn, long', 'B', 0, long, (r) => r.bytesOut],
    ['  redis commands per turn, long', 'calls', 3, long, (r) => total(r, 'calls')],
    ['encrypted at rest, same rate: API CPU per turn', 'ms', 3, encrypted, (r) => r.apiCpuMs],
    ['  latency p50, encrypted', 'ms', 0, encrypted, (r) => r.p50],
    ['  latency p99, encrypted', 'ms', 0, encrypted, (r) => r.p99],
    ['  Redis CPU per turn, encrypted', 'µs', 1, encrypted, (r) => r.redisCpuUs],
    ['  bytes sent to Redis per turn, encrypted', 'B', 0, encrypted, (r) => r.bytesIn],
    ['  bytes read from Redis per turn, encrypted', 'B', 0, encrypted, (r) => r.bytesOut],
    [
      `model answering in ${MODEL_DELAY_MS} ms, ${MODEL_CONNECTIONS} conversations at once: rate`,
      'turns/s',
      0,
      model,
      (r) => r.rate,
    ],
    ['  latency p50, model', 'ms', 0, model, (r) => r.p50],
    ['  latency p99, model', 'ms', 0, model, (r) => r.p99],
    ['  API CPU per turn, model', 'ms', 3, model, (r) => r.apiCpuMs],
    ['  API process CPU, model', 'cores', 2, model, (r) => r.apiCore],
  ];
  for (const [figure, unit, digits, of, pick] of loadFigures)
    ranged(figure, unit, digits, of.map(pick));
  // Paired with the clear row of the same round, which met the same noise.
  const againstSteady = (rows: LoadRow[]) =>
    rows.map((r, i) => r.apiCpuMs / (steady[i]?.apiCpuMs ?? Number.NaN));
  ranged(`${LONG_TURNS}-turn / ${TURNS}-turn, API CPU per turn`, 'ratio', 2, againstSteady(long));
  ranged('encrypted / clear, API CPU per turn', 'ratio', 2, againstSteady(encrypted));
  const commands = [...new Set(steady.flatMap((r) => [...r.calls.keys()]))].sort();
  const command = (row: LoadRow, name: string) => row.calls.get(name) ?? { calls: 0, usec: 0 };
  for (const name of commands) {
    ranged(
      `  redis ${name} per turn, steady`,
      'calls',
      3,
      steady.map((r) => command(r, name).calls),
    );
    ranged(
      `    its execution time per turn`,
      'µs',
      2,
      steady.map((r) => command(r, name).usec),
    );
  }
  ranged(
    '  redis commands per turn, all',
    'calls',
    3,
    steady.map((r) => total(r, 'calls')),
  );
  ranged(
    '    their execution time per turn',
    'µs',
    2,
    steady.map((r) => total(r, 'usec')),
  );
  const everyRow = [...saturated, ...steady, ...long, ...encrypted, ...model];
  ranged(
    'failed requests, every row',
    'requests',
    0,
    everyRow.map((r) => r.failures),
  );
  single('API peak RSS, model rows', 'MB', 0, (load.modelPeakRss ?? 0) / 2 ** 20);
  single('Redis failovers (to the memory copy), every API process', 'events', 0, memory.failovers);
  single('save conflicts, every API process', 'events', 0, memory.conflicts);

  const mb = (bytes: number) => bytes / 2 ** 20;
  const points: Array<[string, MemoryPoint]> = [
    ['warmed up (200 conversations)', memory.idle],
    [`${COPY_SESSIONS} sessions in its copy`, memory.full],
    [`${2 * COPY_SESSIONS} sessions seen (copy bounded)`, memory.past],
  ];
  for (const [when, point] of points) {
    single(`API RSS, ${when}`, 'MB', 0, mb(point.rss));
    single(`  V8 heap used, ${when}`, 'MB', 0, mb(point.heapUsed));
  }
  const perSession = (bytes: number) => bytes / COPY_SESSIONS / 1024;
  single(
    'API RSS growth per session in the copy',
    'KB',
    2,
    perSession(memory.full.rss - memory.idle.rss),
  );
  single(
    '  V8 heap growth per session',
    'KB',
    2,
    perSession(memory.full.heapUsed - memory.idle.heapUsed),
  );
  for (const row of stored) {
    const name = `Redis, ${row.messages}-message sessions, ${row.storage} (${row.sessions})`;
    single(`${name}: used_memory per session`, 'B', 0, row.perSession);
    single('  stored value (STRLEN)', 'B', 0, row.value);
    single('  MEMORY USAGE of the key', 'B', 0, row.memoryUsage);
    single('  overhead beyond the value', 'B', 0, row.perSession - row.value);
  }
  single(
    `Redis mem_fragmentation_ratio, ${2 * COPY_SESSIONS} sessions`,
    'ratio',
    2,
    memory.fragmentation,
  );
  single('Redis key name length', 'B', 0, stored[0]?.keyName ?? 0);

  console.log('| figure | median | range | unit |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}
