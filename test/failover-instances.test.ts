/**
 * Two API processes behind a load balancer without stickiness, one Redis, paused (SIGSTOP) while
 * requests alternate between the instances: each instance continues the conversations on its own
 * memory copy, and on recovery the two branches of each session are merged. Every turn either
 * instance acknowledged is in the history afterwards, and no request fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { errors } from '../src/texts/api.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import { type ChatClient, httpClient } from './support/chat.js';
import { type RedisServer, redisTestOptions, startRedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

/** The process state `ps` reports for a pid: 'T' once stopped by SIGSTOP. */
function processState(pid: number): string {
  return (
    execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()[0] ?? ''
  );
}

const SESSIONS = 10;

describe('two instances without stickiness, Redis paused', redisTestOptions(), () => {
  let redis: RedisServer;
  let instances: ApiProcess[] = [];
  before(async () => {
    redis = await startRedisServer();
    const env = {
      USE_REDIS: 'true',
      REDIS_URL: redis.url(),
      REDIS_COMMAND_TIMEOUT_MS: '300',
      LOG_LEVEL: 'info',
    };
    instances = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  });
  after(async () => {
    redis?.signal('SIGCONT');
    await Promise.all(instances.map((api) => api.stop()));
    await redis?.stop();
  });

  it('keeps every acknowledged turn of both instances, and answers every request', async () => {
    const [a, b] = instances.map((api) => httpClient(api.base)) as [ChatClient, ChatClient];
    const failures: string[] = [];
    const said = new Map<string, string[]>();
    /** One turn on `client`; a 2xx answer is an acknowledged turn. */
    const say = async (client: ChatClient, sessionId: string | undefined, message: string) => {
      const answer = await client.say(sessionId, message);
      if (answer.status < 200 || answer.status > 299) {
        failures.push(`${sessionId}: HTTP ${answer.status} ${answer.text}`);
        return undefined;
      }
      const id = answer.body.session_id as string;
      said.set(id, [...(said.get(id) ?? []), message]);
      return answer;
    };
    // Every session served by both instances before the pause: each holds a copy.
    for (let i = 0; i < SESSIONS; i++) {
      const first = await say(a, undefined, 'a torneira está pingando');
      const id = first?.body.session_id as string;
      const token = a.tokens.get(id);
      assert.ok(token, 'the first answer gives the session token');
      b.tokens.set(id, token);
      await say(b, id, `talvez, sessão ${i}`);
    }
    const ids = [...said.keys()];
    redis.signal('SIGSTOP');
    await until(() => processState(redis.pid) === 'T', 'redis-server to be stopped');
    for (let round = 0; round < 2; round++) {
      for (const [n, id] of ids.entries()) {
        await say(a, id, `talvez A${round}, sessão ${n}`);
        await say(b, id, `talvez B${round}, sessão ${n}`);
      }
    }
    // A session only one instance has seen: the other cannot check its token, and says so.
    const onlyA = await say(a, undefined, 'a pia está entupida');
    const onlyAId = onlyA?.body.session_id as string;
    b.tokens.set(onlyAId, a.tokens.get(onlyAId) ?? '');
    const refused = await b.say(onlyAId, 'não');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.detail, errors.storeUnavailable);
    redis.signal('SIGCONT');
    await until(async () => {
      const health = await Promise.all(
        instances.map(async (api) => {
          const body = (await (await fetch(`${api.base}/health`)).json()) as { status: string };
          return body.status;
        }),
      );
      return health.every((status) => status === 'healthy');
    }, 'both instances back on Redis');

    assert.deepEqual(failures, [], 'no request failed');
    for (const [id, messages] of said) {
      const history = await a.history(id);
      assert.equal(history.status, 200);
      const users = (history.body.messages as { role: string; content: string }[])
        .filter((m) => m.role === 'user')
        .map((m) => m.content);
      assert.deepEqual([...users].sort(), [...messages].sort(), `every turn of ${id}`);
    }
    const merged = new Set(
      instances.flatMap((api) =>
        api
          .output()
          .split('\n')
          .filter((line) => line.includes('"session_merged"'))
          .map((line) => JSON.parse(line).session_id as string),
      ),
    );
    for (const id of ids) assert.ok(merged.has(id), `${id} was merged`);
  });
});
