/**
 * This project next to connect-redis (express-session's Redis store) and the raw @redis/client,
 * in one run on one private redis-server, with the same 20-message session: save, load and
 * "list 100 sessions", p50/p99 and ratios. Run with `npm run bench:peers`.
 */
import { createClient as createRawClient, type RedisClientType } from '@redis/client';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient as createPeerClient } from 'redis';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { SessionManager } from '../src/sessions/manager.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.js';
import * as scripts from '../src/sessions/stores/redis-scripts.js';
import { testResponder } from '../test/support/fixtures.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { measure, type Stat } from './measure.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const LIST_SAMPLES = Number(process.env.BENCH_LIST_SAMPLES ?? 500);
const TTL = 3600;
// Databases: 0 for save/load, 1 for this project's 100 sessions, 2 for connect-redis's, 3 raw.
const DB = { single: 0, ours: 1, peer: 2, raw: 3 };

async function conversation(): Promise<RepairAgent> {
  const agent = new RepairAgent({ responder: await testResponder(), maxAttempts: 10 });
  await agent.chat('a torneira da cozinha está pingando sem parar desde ontem à noite');
  for (let i = 0; i < 9; i++) await agent.chat(i % 2 ? 'talvez, não sei dizer' : 'não funcionou');
  return agent;
}

const server = await startRedisServer();
const url = (db: number) => server.url(db);
const logger = createLogger({ level: 'silent' });
const config = loadConfig({
  env: { SESSION_TTL: String(TTL), MAX_ATTEMPTS: '10' },
  envFile: false,
});
const manager = async (db: number) =>
  SessionManager.create({
    config,
    logger,
    store: await RedisSessionStore.connect({ url: url(db) }),
    responder: await testResponder(),
  });

// biome-ignore lint/complexity/noBannedTypes: the client's own defaults for "no modules, no functions"
const raw: RedisClientType<{}, {}, typeof scripts> = createRawClient({
  url: url(DB.single),
  scripts,
});
const rawList = createRawClient({ url: url(DB.raw) });
const peerClient = createPeerClient({ url: url(DB.single) });
const peerListClient = createPeerClient({ url: url(DB.peer) });
await Promise.all([
  raw.connect(),
  rawList.connect(),
  peerClient.connect(),
  peerListClient.connect(),
]);
const peer = new RedisStore({ client: peerClient, prefix: 'sess:', ttl: TTL });
const peerList = new RedisStore({ client: peerListClient, prefix: 'sess:', ttl: TTL });

try {
  const ours = await manager(DB.single);
  await ours.updateAgent('bench', await conversation());
  const payload = (await ours.store.get('bench')) ?? '';
  // The raw compare-and-set writes each time: two values of the same size, in turn.
  const payloads = [payload, payload.replace('"use_rag":true', '"use_rag":fals')];
  let turn = 0;
  const session = JSON.parse(payload) as SessionData;
  const agent = await ours.getOrCreateAgent('bench');
  await peer.set('bench', session);
  await raw.set('raw:bench', payload, { expiration: { type: 'EX', value: TTL } });

  const oursList = await manager(DB.ours);
  for (let i = 0; i < 100; i++) {
    const a = await conversation();
    await oursList.updateAgent(`s${i}`, a);
    const value = (await oursList.store.get(`s${i}`)) ?? '';
    await peerList.set(`s${i}`, JSON.parse(value) as SessionData);
    await rawList.set(`cql:session:s${i}`, value, { expiration: { type: 'EX', value: TTL } });
  }

  const [save, peerSave, rawSave, rawCas, load, peerLoad, rawLoad] = await measure(SAMPLES, [
    () => ours.updateAgent('bench', agent),
    () => peer.set('bench', session),
    () => raw.set('raw:bench', payload, { expiration: { type: 'EX', value: TTL } }),
    () =>
      raw.setIf('raw:bench', payloads[turn++ % 2] ?? payload, TTL, 0, Number.MAX_SAFE_INTEGER, ''),
    () => ours.getOrCreateAgent('bench'),
    () => peer.get('bench'),
    () => raw.get('raw:bench'),
  ]);
  const [list, peerAll, rawAll] = await measure(LIST_SAMPLES, [
    () => oursList.listSessions(),
    () => peerList.all(),
    async () => {
      const { keys } = await rawList.scan('0', { MATCH: 'cql:session:*', COUNT: 1000 });
      const values = await rawList.mGet(keys);
      for (const value of values) JSON.parse(String(value));
    },
  ]);

  const ms = (s: Stat) => `${s.p50.toFixed(3)} / ${s.p99.toFixed(3)} ms`;
  const x = (a: Stat, b: Stat) => `${(a.p50 / b.p50).toFixed(2)}x`;
  console.log(
    `node ${process.version}, ${SAMPLES} samples (list: ${LIST_SAMPLES}), session ${Buffer.byteLength(payload)} bytes, 20 messages`,
  );
  console.log(
    '| operation | cql-agent p50 / p99 | connect-redis p50 / p99 | raw @redis/client p50 / p99 | vs connect-redis | vs raw |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(
    `| save | ${ms(save)} | ${ms(peerSave)} | ${ms(rawSave)} (SET EX); ${ms(rawCas)} (same compare-and-set) | ${x(save, peerSave)} | ${x(save, rawSave)} SET, ${x(save, rawCas)} compare-and-set |`,
  );
  console.log(
    `| load | ${ms(load)} | ${ms(peerLoad)} | ${ms(rawLoad)} (GET) | ${x(load, peerLoad)} | ${x(load, rawLoad)} |`,
  );
  console.log(
    `| list 100 | ${ms(list)} | ${ms(peerAll)} (all()) | ${ms(rawAll)} (SCAN + MGET + parse) | ${x(list, peerAll)} | ${x(list, rawAll)} |`,
  );
  await ours.close();
  await oursList.close();
} finally {
  await Promise.all([raw.close(), rawList.close(), peerClient.close(), peerListClient.close()]);
  await server.stop();
}
