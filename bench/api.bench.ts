/**
 * Requests per second and latency of the HTTP API under autocannon (50 connections), for chat
 * turns on memory and on Redis, next to GET /health in the same run as the framework's ceiling.
 * One `cql-agent serve` process per backend; autocannon runs here. Run with `npm run bench:api`.
 */
import autocannon from 'autocannon';
import { startApiProcess } from '../test/support/api-process.js';
import { DESCRIPTIONS } from '../test/support/descriptions.js';
import { startRedisServer } from '../test/support/redis-server.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
// Conversations in progress at once; each connection's consecutive requests go to different
// ones, so no two requests in flight share a session.
const ACTIVE_SESSIONS = 1000;
// One whole conversation per session: a problem (a different description for each session),
// then three failures (the last answer recommends a professional); then that slot starts a
// new session.
const TURNS = 4;
const turn = (round: number, session: number) =>
  round % TURNS === 0
    ? `${DESCRIPTIONS[session % DESCRIPTIONS.length]?.[0]}, desde ${session % 28} de março`
    : 'não';

interface Row {
  backend: string;
  route: string;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  /** The statuses other than 2xx, with their counts. */
  statuses: string;
}

/** Where the conversations of one server stand, across its runs (the warm-up's included). */
interface Conversations {
  sent: number;
  /** Each session's token, from its first answer: later turns present it, as a client does. */
  tokens: Map<string, string>;
}

async function load(
  base: string,
  route: 'health' | 'chat',
  duration: number,
  conversations: Conversations,
): Promise<Omit<Row, 'backend'>> {
  const { tokens } = conversations;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration,
    requests:
      route === 'health'
        ? [{ method: 'GET', path: '/health' }]
        : [
            {
              method: 'POST',
              path: '/api/v1/chat/message',
              headers: { 'content-type': 'application/json' },
              setupRequest: (request) => {
                const n = conversations.sent++;
                const round = Math.floor(n / ACTIVE_SESSIONS);
                const session = (n % ACTIVE_SESSIONS) + ACTIVE_SESSIONS * Math.floor(round / TURNS);
                const id = `bench-${session}`;
                const body = { message: turn(round, session), session_id: id };
                const token = tokens.get(id);
                return {
                  ...request,
                  headers: { ...request.headers, ...(token ? { 'x-session-token': token } : {}) },
                  body: JSON.stringify(body),
                };
              },
              onResponse: (status, body) => {
                if (status !== 200) return;
                const answer = JSON.parse(body) as { session_id?: string; session_token?: string };
                if (answer.session_id && answer.session_token) {
                  tokens.set(answer.session_id, answer.session_token);
                }
              },
            },
          ],
  });
  return {
    route: route === 'health' ? 'GET /health' : 'POST chat turn',
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    statuses: Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stats]) => `${code}: ${stats.count ?? 0}`)
      .join(', '),
  };
}

async function benchBackend(backend: string, env: Record<string, string>): Promise<Row[]> {
  // One client address sends everything here: the per-address limit of the chat routes
  // (RATE_LIMIT_PER_MINUTE) would answer 429 to nearly all of it.
  const server = await startApiProcess({ RATE_LIMIT_PER_MINUTE: '0', ...env }, { quiet: true });
  try {
    const conversations: Conversations = { sent: 0, tokens: new Map() };
    // Warm-up: JIT, connections, first sessions.
    await load(server.base, 'chat', 3, conversations);
    const rows: Row[] = [];
    for (const route of ['health', 'chat'] as const)
      rows.push({ backend, ...(await load(server.base, route, DURATION_S, conversations)) });
    return rows;
  } finally {
    await server.stop();
  }
}

const redis = await startRedisServer();
try {
  console.log(
    `node ${process.version}, ${CONNECTIONS} connections, ${DURATION_S} s per row, one server process`,
  );
  const rows = [
    ...(await benchBackend('memory', {})),
    ...(await benchBackend('redis', { USE_REDIS: 'true', REDIS_URL: redis.url() })),
  ];
  const health = (backend: string) =>
    rows.find((r) => r.backend === backend && r.route === 'GET /health')?.rps ?? 1;
  console.log('| backend | route | req/s | p50 | p99 | non-2xx or errors | vs /health |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = `${Math.round((r.rps / health(r.backend)) * 100)}%`;
    console.log(
      `| ${r.backend} | ${r.route} | ${Math.round(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${r.failures}${r.statuses ? ` (${r.statuses})` : ''} | ${ratio} |`,
    );
  }
  const chatOnRedis = rows.find((r) => r.backend === 'redis' && r.route === 'POST chat turn');
  console.log(
    `goal: chat turns on Redis >= 40% of the /health rate: ${Math.round(((chatOnRedis?.rps ?? 0) / health('redis')) * 100)}%`,
  );
} finally {
  await redis.stop();
}
