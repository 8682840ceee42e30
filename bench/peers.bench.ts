/**
 * This project (the application as createApp wires it over Redis: the production path) next to
 * connect-redis (express-session's Redis store) and the raw @redis/client, in one run on one
 * private redis-server, with the same 20-message session: save, load and "list 100 sessions",
 * p50/p99 and ratios. Run with `npm run bench:peers`.
 */
import { createClient as createRawClient, type RedisClientType } from '@redis/client';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient as createPeerClient } from 'redis';
import * as scripts from '../src/sessions/stores/redis-scripts.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { measure, type Stat } from './measure.js';
import { conversation, openApp } from './production.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const LIST_SAMPLES = Number(process.env.BENCH_LIST_SAMPLES ?? 500);
const TTL = 3600;
// Databases: 0 for save/load, 1 for this project's 100 sessions, 2 for connect-redis's, 3 raw.
const DB = { single: 0, ours: 1, peer: 2, raw: 3 };

const server = await startRedisServer();
const url = (db: number) => server.url(db);
const manager = (db: number) => openApp({ USE_REDIS: 'true', REDIS_URL: url(db) });

// biome-ignore lint/complexity/noBannedTypes: the client's own defaults for "no modules, no functions"
const raw: RedisClientType<{}, {}, typeof scripts> = createRawClient({
  url: url(DB.single),
  scripts,
});
const rawList = createRawClient({ url: url(DB.raw) });
const rawOurs = createRawClient({ url: url(DB.ours) });
const peerClient = createPeerClient({ url: url(DB.single) });
const peerListClient = createPeerClient({ url: url(DB.peer) });
await Promise.all([
  raw.connect(),
  rawList.connect(),
  rawOurs.connect(),
  peerClient.connect(),
  peerListClient.connect(),
]);
const peer = new RedisStore({ client: peerClient, prefix: 'sess:', ttl: TTL });
const peerList = new RedisStore({ client: peerListClient, prefix: 'sess:', ttl: TTL });

try {
  const ours = await manager(DB.single);
  await ours.manager.updateAgent('bench', await conversation());
  const payload = (await raw.get('cql:session:bench')) ?? '';
  // The raw compare-and-set writes each time: two values (two write ids), in turn.
  const payloads = [payload, payload.replace(/"write_id":"[^"]*"/, '"write_id":"another-write"')];
  let turn = 0;
  const session = JSON.parse(payload) as SessionData;
  const agent = await ours.manager.getOrCreateAgent('bench');
  await peer.set('bench', session);
  await raw.set('raw:bench', payload, { expiration: { type: 'EX', value: TTL } });

  const oursList = await manager(DB.ours);
  for (let i = 0; i < 100; i++) {
    await oursList.manager.updateAgent(`s${i}`, await conversation());
    const value = (await rawOurs.get(`cql:session:s${i}`)) ?? '';
    await peerList.set(`s${i}`, JSON.parse(value) as SessionData);
    await rawList.set(`cql:session:s${i}`, value, { expiration: { type: 'EX', value: TTL } });
  }

  const [save, peerSave, rawSave, rawCas, load, peerLoad, rawLoad] = await measure(SAMPLES, [
    () => ours.manager.updateAgent('bench', agent),
    () => peer.set('bench', session),
    () => raw.set('raw:bench', payload, { expiration: { type: 'EX', value: TTL } }),
    () =>
      raw.setIf('raw:bench', payloads[turn++ % 2] ?? payload, TTL, 0, Number.MAX_SAFE_INTEGER, ''),
    () => ours.manager.getAgent('bench'),
    () => peer.get('bench'),
    () => raw.get('raw:bench'),
  ]);
  const [list, peerAll, rawAll] = await measure(LIST_SAMPLES, [
    () => oursList.manager.listPage({ limit: 100 }),
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
  await Promise.all([
    raw.close(),
    rawList.close(),
    rawOurs.close(),
    peerClient.close(),
    peerListClient.close(),
  ]);
  await server.stop();
}
