/**
 * Chaos runs against a private redis-server (appendonly yes) and two API instances; exits 1 when
 * a goal is missed. Run with `npm run chaos`.
 *
 * 1. Pinned: 50 conversations of 6 turns, each on one instance; Redis is SIGKILLed 2 s in and
 *    restarted 5 s later.
 * 2. Round-robin: 40 conversations whose turns alternate between the instances (no stickiness);
 *    once every one has been served by both, Redis is paused (SIGSTOP) for 6 s while the turns go
 *    on, resumed, then SIGKILLed and restarted. Both instances continue each conversation on
 *    their own copy meanwhile; the two branches are merged on recovery.
 *
 * Goal of each: no non-2xx answer, and every acknowledged turn in the histories afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { decodeSession } from '../src/sessions/codec.js';
import { type ApiProcess, startApiProcess } from '../test/support/api-process.js';
import { DESCRIPTIONS } from '../test/support/descriptions.js';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';

/** What the clients saw. */
interface Tally {
  sent: number;
  non2xx: number;
  failures: string[];
  /** The user messages each session acknowledged, by session id. */
  acknowledged: Map<string, string[]>;
}

const newTally = (): Tally => ({ sent: 0, non2xx: 0, failures: [], acknowledged: new Map() });

interface Session {
  id: string | undefined;
  token: string | undefined;
}

/** One chat turn, with the session's token once it has one; the session learns its id and
 * token from the first answer. */
async function turn(api: ApiProcess, session: Session, message: string, tally: Tally) {
  tally.sent++;
  try {
    const response = await fetch(`${api.base}/api/v1/chat/message`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(session.token && { 'x-session-token': session.token }),
      },
      body: JSON.stringify(session.id ? { message, session_id: session.id } : { message }),
    });
    const body = (await response.json()) as { session_id?: string; detail?: string };
    if (response.status !== 200) {
      tally.non2xx++;
      tally.failures.push(`${session.id}: HTTP ${response.status} ${body.detail ?? ''}`);
      return;
    }
    session.id ??= body.session_id;
    session.token ??= response.headers.get('x-session-token') ?? undefined;
    if (session.id) {
      tally.acknowledged.set(session.id, [...(tally.acknowledged.get(session.id) ?? []), message]);
    }
  } catch (error) {
    tally.non2xx++;
    tally.failures.push(`${session.id}: ${(error as Error).message}`);
  }
}

const problem = (i: number) => DESCRIPTIONS[i % DESCRIPTIONS.length]?.[0] ?? 'a torneira pinga';
/** A message the agent reads as unsure ("talvez"), so the conversation goes on; unique, so each
 * turn can be found in the history. */
const unsure = (conversation: number, n: number) => `talvez, conversa ${conversation} turno ${n}`;
const pause = (ms: number) => sleep(ms * (0.5 + Math.random()));

async function healthy(api: ApiProcess): Promise<boolean> {
  try {
    const body = (await (await fetch(`${api.base}/health`)).json()) as { status: string };
    return body.status === 'healthy';
  } catch {
    return false;
  }
}

async function allHealthy(instances: ApiProcess[], what: string): Promise<void> {
  const deadline = Date.now() + 30000;
  while (!(await Promise.all(instances.map(healthy))).every(Boolean)) {
    if (Date.now() > deadline)
      throw new Error(`the instances did not recover within 30 s (${what})`);
    await sleep(200);
  }
}

async function counter(api: ApiProcess, event: string): Promise<number> {
  const text = await (await fetch(`${api.base}/metrics`)).text();
  return Number(
    new RegExp(`session_store_events_total\\{event="${event}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}

/** Every acknowledged user message looked for in Redis. */
async function findTurns(redis: RedisServer, tally: Tally) {
  const raw = createClient({ url: redis.url() });
  await raw.connect();
  let expected = 0;
  let found = 0;
  let sessionsLost = 0;
  try {
    for (const [id, messages] of tally.acknowledged) {
      expected += messages.length;
      const value = await raw.get(`cql:session:${id}`);
      if (value === null) {
        sessionsLost++;
        continue;
      }
      // As many times as it was said: the same text twice is two turns.
      const stored = decodeSession(id, value)
        .conversation_history.filter((m) => m.role === 'user')
        .map((m) => m.content);
      for (const message of messages) {
        const at = stored.indexOf(message);
        if (at === -1) continue;
        stored.splice(at, 1);
        found++;
      }
    }
  } finally {
    await raw.close();
  }
  return { expected, found, sessionsLost };
}

/** What was sent, what was acknowledged, and what of it Redis holds afterwards. */
function delivery(tally: Tally, turns: Awaited<ReturnType<typeof findTurns>>) {
  return {
    requests_sent: tally.sent,
    acknowledged: tally.sent - tally.non2xx,
    non_2xx: tally.non2xx,
    turns_found_in_redis: turns.found,
    turns_lost: turns.expected - turns.found,
    sessions_lost: turns.sessionsLost,
  };
}

function print(report: Record<string, number | string>, failures: string[]): boolean {
  for (const [key, value] of Object.entries(report)) console.log(`${key.padEnd(28)} ${value}`);
  for (const failure of failures.slice(0, 10)) console.log(`  ${failure}`);
  const met = report.non_2xx === 0 && report.turns_lost === 0 && report.sessions_lost === 0;
  console.log(`goal (0 non-2xx, 0 turns lost, 0 sessions lost): ${met ? 'met' : 'MISSED'}\n`);
  return met;
}

async function withSetup(
  env: Record<string, string>,
  run: (redis: { current: RedisServer }, instances: ApiProcess[]) => Promise<boolean>,
): Promise<boolean> {
  const redis = { current: await startRedisServer({ args: ['--appendonly', 'yes'] }) };
  const settings = { USE_REDIS: 'true', REDIS_URL: redis.current.url(), ...env };
  const instances = await Promise.all([startApiProcess(settings), startApiProcess(settings)]);
  try {
    return await run(redis, instances);
  } finally {
    redis.current.signal('SIGCONT');
    await Promise.all(instances.map((api) => api.stop()));
    await redis.current.stop();
  }
}

/** Run 1: conversations pinned to one instance, Redis killed and restarted. */
async function pinned(): Promise<boolean> {
  const CONVERSATIONS = 50;
  const TURNS = 6;
  const KILL_AFTER_MS = 2000;
  const DOWN_MS = 5000;
  console.log(`== pinned: ${CONVERSATIONS} conversations of ${TURNS} turns, each on one instance`);
  return withSetup({ LOG_LEVEL: 'warn' }, async (redis, instances) => {
    const tally = newTally();
    const run = Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, i) => {
        const api = instances[i % 2] as ApiProcess;
        const session: Session = { id: undefined, token: undefined };
        for (let n = 0; n < TURNS; n++) {
          await turn(api, session, n === 0 ? problem(i) : unsure(i, n), tally);
          await pause(1500);
        }
      }),
    );
    await sleep(KILL_AFTER_MS);
    console.log(
      `t=${KILL_AFTER_MS / 1000}s: SIGKILL redis-server (pid ${redis.current.pid}) for ${DOWN_MS / 1000}s`,
    );
    redis.current = await redis.current.restart({ crash: true, downMs: DOWN_MS });
    console.log(`redis-server restarted (pid ${redis.current.pid}), append-only file reloaded`);
    await run;
    await allHealthy(instances, 'after the run');
    const turns = await findTurns(redis.current, tally);
    return print(
      {
        ...delivery(tally, turns),
        conflicts: await sum(instances, 'reconcile_conflict'),
        failovers: await sum(instances, 'unavailable'),
      },
      tally.failures,
    );
  });
}

async function sum(instances: ApiProcess[], event: string): Promise<number> {
  let total = 0;
  for (const api of instances) total += await counter(api, event);
  return total;
}

/** Run 2: turns alternating between the instances; Redis paused, then killed. */
async function roundRobin(): Promise<boolean> {
  const CONVERSATIONS = 40;
  const PAUSE_MS = 6000;
  const DOWN_MS = 3000;
  const TURN_PAUSE_MS = 600;
  console.log(
    `== round-robin: ${CONVERSATIONS} conversations alternating between the two instances`,
  );
  // A long history, so that the history limit drops nothing this run wants to find.
  const env = { LOG_LEVEL: 'info', MAX_HISTORY_MESSAGES: '1000' };
  return withSetup(env, async (redis, instances) => {
    const tally = newTally();
    let stop = false;
    const started = Date.now();
    const at = () => `t=${((Date.now() - started) / 1000).toFixed(1)}s`;
    const sessions: Session[] = Array.from({ length: CONVERSATIONS }, () => ({
      id: undefined,
      token: undefined,
    }));
    const run = Promise.all(
      sessions.map(async (session, i) => {
        for (let n = 0; !stop; n++) {
          // Turn n on instance (i + n) % 2: every conversation is served by both from its second turn.
          await turn(
            instances[(i + n) % 2] as ApiProcess,
            session,
            n === 0 ? problem(i) : unsure(i, n),
            tally,
          );
          await pause(TURN_PAUSE_MS);
        }
      }),
    );
    const servedByBoth = () =>
      sessions.every((s) => s.id !== undefined && (tally.acknowledged.get(s.id)?.length ?? 0) >= 2);
    while (!servedByBoth()) await sleep(50);
    const paused = redis.current.pid;
    redis.current.signal('SIGSTOP');
    console.log(
      `${at()}: every conversation served by both; SIGSTOP redis-server (pid ${paused}) for ${PAUSE_MS / 1000}s`,
    );
    await sleep(PAUSE_MS);
    redis.current.signal('SIGCONT');
    console.log(`${at()}: SIGCONT`);
    await allHealthy(instances, 'after the pause');
    console.log(`${at()}: both instances back on Redis`);
    console.log(`${at()}: SIGKILL redis-server (pid ${redis.current.pid}) for ${DOWN_MS / 1000}s`);
    redis.current = await redis.current.restart({ crash: true, downMs: DOWN_MS });
    console.log(
      `${at()}: redis-server restarted (pid ${redis.current.pid}), append-only file reloaded`,
    );
    await allHealthy(instances, 'after the restart');
    await sleep(2000);
    stop = true;
    await run;
    await allHealthy(instances, 'after the run');
    const turns = await findTurns(redis.current, tally);
    const mergedSessions = new Set(
      instances.flatMap((api) =>
        api
          .output()
          .split('\n')
          .filter((line) => line.includes('"event_type":"session_merged"'))
          .map((line) => (JSON.parse(line) as { session_id: string }).session_id),
      ),
    );
    return print(
      {
        ...delivery(tally, turns),
        merges: await sum(instances, 'reconcile_merged'),
        merged_sessions: mergedSessions.size,
        conflicts: await sum(instances, 'reconcile_conflict'),
        failovers: await sum(instances, 'unavailable'),
      },
      tally.failures,
    );
  });
}

const results = [await pinned(), await roundRobin()];
process.exitCode = results.every(Boolean) ? 0 : 1;
