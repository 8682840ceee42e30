/**
 * Save, load and "list 100 sessions" through the SessionManager, for memory and for Redis, next
 * to the raw @redis/client doing the same work on the same payload in the same run.
 * Sessions hold 20-message histories (about 5 KB). Then, in one interleaved run, save and load on
 * a 3-master Redis Cluster and with encryption at rest, next to a single node in clear.
 * Run with `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from '@redis/client';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { SessionManager } from '../src/sessions/manager.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import * as scripts from '../src/sessions/stores/redis-scripts.js';
import type { SessionStore } from '../src/sessions/types.js';
import { testResponder } from '../test/support/fixtures.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';
import { measure, type Timed } from './measure.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const LIST_SAMPLES = Number(process.env.BENCH_LIST_SAMPLES ?? 500);
const TTL = 3600;

// biome-ignore lint/complexity/noBannedTypes: the client's own defaults for "no modules, no functions"
type RawClient = RedisClientType<{}, {}, typeof scripts>;

/** An agent with a conversation of `turns` repair turns (10: 20 messages, about 6 KB stored;
 * 8: about 5 KB). */
async function conversation(turns = 10): Promise<RepairAgent> {
  const responder = await testResponder();
  const agent = new RepairAgent({ responder, maxAttempts: 10 });
  await agent.chat('a torneira da cozinha está pingando sem parar desde ontem à noite');
  for (let i = 0; i < turns - 1; i++) {
    await agent.chat(i % 2 ? 'talvez, não sei dizer' : 'não funcionou');
  }
  return agent;
}

async function openManager(
  store: SessionStore,
  env: Record<string, string> = {},
): Promise<SessionManager> {
  return SessionManager.create({
    store,
    config: loadConfig({
      env: { SESSION_TTL: String(TTL), MAX_ATTEMPTS: '10', ...env },
      envFile: false,
    }),
    logger: createLogger({ level: 'silent' }),
    responder: await testResponder(),
  });
}

interface Row {
  operation: string;
  backend: string;
  p50: number;
  p99: number;
  baseline?: { p50: number; label: string };
}

async function benchBackend(
  backend: string,
  open: (db: number) => Promise<SessionStore>,
  raw?: { save: RawClient; list: RawClient },
): Promise<Row[]> {
  const agentTemplate = await conversation();
  const manager = await openManager(await open(0));
  await manager.updateAgent('bench-save', agentTemplate);
  const payload = (await manager.store.get('bench-save')) ?? '';
  const agent = await manager.getOrCreateAgent('bench-save');

  const listManager = await openManager(await open(1));
  for (let i = 0; i < 100; i++) await listManager.updateAgent(`list-${i}`, await conversation());
  const listed = await listManager.listSessions();
  if (listed.length !== 100) throw new Error(`expected 100 sessions, listed ${listed.length}`);

  const rows: Row[] = [];
  if (raw) {
    const key = 'cql:session:raw-bench';
    // The raw compare-and-set writes each time: two values of the same size, in turn.
    const payloads = [payload, payload.replace('"use_rag":true', '"use_rag":fals')];
    let turn = 0;
    await raw.save.set(key, payload, { expiration: { type: 'EX', value: TTL } });
    const [save, rawSet, rawCas, load, rawGet] = await measure(SAMPLES, [
      () => manager.updateAgent('bench-save', agent),
      () => raw.save.set(key, payload, { expiration: { type: 'EX', value: TTL } }),
      // The same compare-and-set a save performs (EVALSHA of the store's script).
      () =>
        raw.save.setIf(key, payloads[turn++ % 2] ?? payload, TTL, 0, Number.MAX_SAFE_INTEGER, ''),
      () => manager.getOrCreateAgent('bench-save'),
      () => raw.save.get(key),
    ]);
    const [list, rawList] = await measure(LIST_SAMPLES, [
      () => listManager.listSessions(),
      async () => {
        // The straightforward listing: SCAN, then every value in one pipeline, parsed.
        const { keys } = await raw.list.scan('0', { MATCH: 'cql:session:*', COUNT: 1000 });
        const pipeline = raw.list.multi();
        for (const k of keys) pipeline.get(k).ttl(k);
        const replies = await pipeline.execAsPipeline();
        for (let i = 0; i < replies.length; i += 2) JSON.parse(String(replies[i]));
      },
    ]);
    rows.push(
      { operation: 'save', backend, ...save, baseline: { p50: rawSet.p50, label: 'raw SET EX' } },
      {
        operation: 'save',
        backend,
        ...save,
        baseline: { p50: rawCas.p50, label: 'raw EVALSHA, same compare-and-set' },
      },
      { operation: 'load', backend, ...load, baseline: { p50: rawGet.p50, label: 'raw GET' } },
      {
        operation: 'list 100',
        backend,
        ...list,
        baseline: { p50: rawList.p50, label: 'raw SCAN + GET all + parse' },
      },
    );
  } else {
    const [save, load] = await measure(SAMPLES, [
      () => manager.updateAgent('bench-save', agent),
      () => manager.getOrCreateAgent('bench-save'),
    ]);
    const [list] = await measure(LIST_SAMPLES, [() => listManager.listSessions()]);
    rows.push(
      { operation: 'save', backend, ...save },
      { operation: 'load', backend, ...load },
      { operation: 'list 100', backend, ...list },
    );
  }
  console.log(`${backend}: session payload ${Buffer.byteLength(payload)} bytes, 20 messages`);
  await manager.close();
  await listManager.close();
  return rows;
}

/** Save and load on a Cluster and with encryption, against a single node in clear, interleaved. */
async function benchVariants(server: RedisServer): Promise<Row[]> {
  const cluster = await startRedisCluster({ masters: 3 });
  try {
    const template = await conversation(8); // the 5 KB session the goal is stated for
    const single = await openManager(await RedisSessionStore.connect({ url: server.url(2) }));
    const encrypted = await openManager(await RedisSessionStore.connect({ url: server.url(3) }), {
      SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    const clustered = await openManager(
      await RedisSessionStore.connect({ url: cluster.url(), cluster: { nodes: cluster.nodes } }),
    );
    const managers = [single, encrypted, clustered];
    const agents = await Promise.all(
      managers.map(async (manager) => {
        await manager.updateAgent('bench-variant', template);
        return manager.getOrCreateAgent('bench-variant');
      }),
    );
    const sizes = await Promise.all(
      managers.map(async (m) => Buffer.byteLength((await m.store.get('bench-variant')) ?? '')),
    );
    console.log(`variants: stored sizes ${sizes.join(', ')} bytes (clear, encrypted, cluster)`);
    const [saveSingle, saveEncrypted, saveCluster, loadSingle, loadEncrypted, loadCluster] =
      await measure(SAMPLES, [
        ...managers.map(
          (manager, i) => () => manager.updateAgent('bench-variant', agents[i] as RepairAgent),
        ),
        ...managers.map((manager) => () => manager.getOrCreateAgent('bench-variant')),
      ] as [Timed, Timed, Timed, Timed, Timed, Timed]);
    const clear = 'redis single node, clear';
    const rows: Row[] = [
      {
        operation: 'save',
        backend: 'redis, encrypted',
        ...saveEncrypted,
        baseline: { p50: saveSingle.p50, label: clear },
      },
      {
        operation: 'load',
        backend: 'redis, encrypted',
        ...loadEncrypted,
        baseline: { p50: loadSingle.p50, label: clear },
      },
      {
        operation: 'save',
        backend: 'redis cluster, 3 masters',
        ...saveCluster,
        baseline: { p50: saveSingle.p50, label: clear },
      },
      {
        operation: 'load',
        backend: 'redis cluster, 3 masters',
        ...loadCluster,
        baseline: { p50: loadSingle.p50, label: clear },
      },
    ];
    for (const manager of managers) await manager.close();
    return rows;
  } finally {
    await cluster.stop();
  }
}

function printTable(rows: Row[]): void {
  const ms = (n: number) => `${n.toFixed(3)} ms`;
  const lines = [
    '| operation | backend | p50 | p99 | baseline (same run) | baseline p50 | ratio p50 |',
    '|---|---|---|---|---|---|---|',
    ...rows
      .map((r) =>
        [
          r.operation,
          r.backend,
          ms(r.p50),
          ms(r.p99),
          r.baseline?.label ?? '-',
          r.baseline ? ms(r.baseline.p50) : '-',
          r.baseline ? `${(r.p50 / r.baseline.p50).toFixed(2)}x` : '-',
        ].join(' | '),
      )
      .map((line) => `| ${line} |`),
  ];
  console.log(lines.join('\n'));
}

const server = await startRedisServer();
const rawSave: RawClient = createClient({ url: server.url(0), scripts });
const rawList: RawClient = createClient({ url: server.url(1), scripts });
await Promise.all([rawSave.connect(), rawList.connect()]);
try {
  console.log(
    `node ${process.version}, redis-server on 127.0.0.1:${server.port}, ${SAMPLES} samples (list: ${LIST_SAMPLES})`,
  );
  const rows = [
    ...(await benchBackend('memory', async () => new MemorySessionStore())),
    ...(await benchBackend('redis', (db) => RedisSessionStore.connect({ url: server.url(db) }), {
      save: rawSave,
      list: rawList,
    })),
    ...(await benchVariants(server)),
  ];
  printTable(rows);
  const redis = (op: string) => rows.find((r) => r.backend === 'redis' && r.operation === op);
  const ratio = (op: string) => (redis(op)?.p50 ?? 0) / (redis(op)?.baseline?.p50 ?? 1);
  const cas = rows.find((r) => r.baseline?.label.startsWith('raw EVALSHA'));
  console.log(
    `goals: redis save p50 <= 1.3x raw: ${ratio('save').toFixed(2)}x of SET, ` +
      `${((cas?.p50 ?? 0) / (cas?.baseline?.p50 ?? 1)).toFixed(2)}x of the same compare-and-set; ` +
      `redis load p50 <= 1.3x raw: ${ratio('load').toFixed(2)}x; ` +
      `list 100 p50 < 1.5 ms: ${redis('list 100')?.p50.toFixed(3)} ms`,
  );
  const variant = (backend: string, op: string) => {
    const row = rows.find((r) => r.backend === backend && r.operation === op);
    return `${(((row?.p50 ?? 0) / (row?.baseline?.p50 ?? 1) - 1) * 100).toFixed(1)}%`;
  };
  console.log(
    `goal: encryption adds <= 20% to p50: save +${variant('redis, encrypted', 'save')}, ` +
      `load +${variant('redis, encrypted', 'load')}; ` +
      `cluster vs single node: save +${variant('redis cluster, 3 masters', 'save')}, ` +
      `load +${variant('redis cluster, 3 masters', 'load')}`,
  );
} finally {
  await rawSave.close();
  await rawList.close();
  await server.stop();
}
