/**
 * Chaos run: a private redis-server (appendonly yes) and two API instances; 50 conversations of
 * 6 turns, each pinned to one instance; Redis is SIGKILLed mid-run and restarted 5 seconds
 * later. Then every conversation is checked in Redis. Goal: no non-2xx answer, no turn lost, no
 * session lost. Exits 1 when the goal is missed. Run with `npm run chaos`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { decodeSession } from '../src/sessions/codec.js';
import { type ApiProcess, startApiProcess } from '../test/support/api-process.js';
import { DESCRIPTIONS } from '../test/support/descriptions.js';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';

const CONVERSATIONS = 50;
const FEEDBACK = ['não', 'talvez', 'não', 'talvez', 'sim'];
const TURN_PAUSE_MS = 1500;
const KILL_AFTER_MS = 2000;
const DOWN_MS = 5000;

interface Tally {
  sent: number;
  non2xx: number;
  failures: string[];
}

async function converse(
  api: ApiProcess,
  sessionId: string,
  problem: string,
  tally: Tally,
): Promise<void> {
  for (const message of [problem, ...FEEDBACK]) {
    tally.sent++;
    try {
      const response = await fetch(`${api.base}/api/v1/chat/message`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, session_id: sessionId }),
      });
      await response.arrayBuffer();
      if (response.status !== 200) {
        tally.non2xx++;
        tally.failures.push(`${sessionId}: HTTP ${response.status}`);
      }
    } catch (error) {
      tally.non2xx++;
      tally.failures.push(`${sessionId}: ${(error as Error).message}`);
    }
    await sleep(TURN_PAUSE_MS * (0.5 + Math.random()));
  }
}

async function healthy(api: ApiProcess): Promise<boolean> {
  const body = (await (await fetch(`${api.base}/health`)).json()) as { status: string };
  return body.status === 'healthy';
}

async function counter(api: ApiProcess, event: string): Promise<number> {
  const text = await (await fetch(`${api.base}/metrics`)).text();
  return Number(
    new RegExp(`session_store_events_total\\{event="${event}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}

let redis: RedisServer = await startRedisServer({ args: ['--appendonly', 'yes'] });
const env = { USE_REDIS: 'true', REDIS_URL: redis.url(), LOG_LEVEL: 'warn' };
const instances = await Promise.all([
  startApiProcess(env, { quiet: true }),
  startApiProcess(env, { quiet: true }),
]);
let exitCode = 1;
try {
  const tally: Tally = { sent: 0, non2xx: 0, failures: [] };
  const ids = Array.from({ length: CONVERSATIONS }, (_, i) => `chaos-${i}`);
  const run = Promise.all(
    ids.map((id, i) =>
      converse(
        instances[i % 2] as ApiProcess,
        id,
        DESCRIPTIONS[i % DESCRIPTIONS.length]?.[0] ?? '',
        tally,
      ),
    ),
  );
  await sleep(KILL_AFTER_MS);
  console.log(
    `t=${KILL_AFTER_MS / 1000}s: SIGKILL redis-server (pid ${redis.pid}) for ${DOWN_MS / 1000}s`,
  );
  redis = await redis.restart({ crash: true, downMs: DOWN_MS });
  console.log(`redis-server restarted (pid ${redis.pid}), append-only file reloaded`);
  await run;

  const deadline = Date.now() + 30000;
  while (!(await Promise.all(instances.map(healthy))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('the instances did not recover within 30 s');
    await sleep(200);
  }
  const raw = createClient({ url: redis.url() });
  await raw.connect();
  let turnsFound = 0;
  let sessionsLost = 0;
  for (const id of ids) {
    const value = await raw.get(`cql:session:${id}`);
    if (value === null) {
      sessionsLost++;
      continue;
    }
    turnsFound += decodeSession(id, value).conversation_history.filter(
      (m) => m.role === 'user',
    ).length;
  }
  await raw.close();
  const turnsExpected = CONVERSATIONS * (FEEDBACK.length + 1);
  let conflicts = 0;
  let failovers = 0;
  for (const api of instances) {
    conflicts += await counter(api, 'reconcile_conflict');
    failovers += await counter(api, 'unavailable');
  }
  const report = {
    requests_sent: tally.sent,
    non_2xx: tally.non2xx,
    turns_expected: turnsExpected,
    turns_found_in_redis: turnsFound,
    turns_lost: turnsExpected - turnsFound,
    sessions_lost: sessionsLost,
    conflicts,
    failovers,
  };
  for (const [key, value] of Object.entries(report)) console.log(`${key.padEnd(28)} ${value}`);
  for (const failure of tally.failures.slice(0, 10)) console.log(`  ${failure}`);
  const met = report.non_2xx === 0 && report.turns_lost === 0 && report.sessions_lost === 0;
  console.log(`goal (0 non-2xx, 0 turns lost, 0 sessions lost): ${met ? 'met' : 'MISSED'}`);
  exitCode = met ? 0 : 1;
} finally {
  await Promise.all(instances.map((api) => api.stop()));
  await redis.stop();
}
process.exitCode = exitCode;
