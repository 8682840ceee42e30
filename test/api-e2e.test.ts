/**
 * End to end over real sockets: one private redis-server and several `cql-agent serve`
 * processes on free ports, as in production behind a load balancer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field below
type Json = any;

async function post(instance: ApiProcess, message: string, sessionId: string) {
  const response = await fetch(`${instance.base}/api/v1/chat/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, session_id: sessionId }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function get(instance: ApiProcess, path: string) {
  const response = await fetch(`${instance.base}${path}`);
  return { status: response.status, body: (await response.json()) as Json };
}

describe('three API instances over one Redis', redisTestOptions(), () => {
  const redis = useRedisServer({ args: ['--appendonly', 'yes'] });
  let instances: ApiProcess[] = [];
  const env = () => ({ USE_REDIS: 'true', REDIS_URL: redis.server.url() });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
  });

  it('start on Redis', async () => {
    instances = await Promise.all([
      startApiProcess(env()),
      startApiProcess(env()),
      startApiProcess(env()),
    ]);
    for (const instance of instances) {
      const { body } = await get(instance, '/health');
      assert.equal(body.status, 'healthy', instance.output());
      assert.equal(body.session_store.backend, 'redis');
      assert.equal(body.session_store.connected, true);
    }
  });

  it('carry one conversation whose turns go to a different instance each time', async () => {
    const turns = ['o disjuntor cai toda hora', 'não', 'talvez', 'não', 'não'];
    const seen = [];
    for (const [i, message] of turns.entries()) {
      const { status, body } = await post(instances[i % 3] as ApiProcess, message, 'roaming');
      assert.equal(status, 200);
      seen.push([body.state, body.metadata.current_attempt]);
    }
    assert.deepEqual(seen, [
      ['waiting_feedback', 1],
      ['waiting_feedback', 2],
      ['waiting_feedback', 2],
      ['waiting_feedback', 3],
      ['max_attempts', 3],
    ]);
    const { body } = await get(instances[1] as ApiProcess, '/api/v1/sessions/roaming');
    assert.equal(body.conversation_history.length, 10);
    assert.deepEqual(
      body.conversation_history
        .filter((m: { role: string }) => m.role === 'user')
        .map((m: { content: string }) => m.content),
      turns,
    );
    assert.equal(body.version, 5, 'saved once per turn, the first one creating it');
  });

  it('apply all of 20 messages sent at once for one session, spread over the three instances', async () => {
    const messages = Array.from({ length: 20 }, (_, i) =>
      i === 0 ? 'a torneira está pingando' : `talvez ${i}`,
    );
    const answers = await Promise.all(
      messages.map((message, i) => post(instances[i % 3] as ApiProcess, message, 'crowded')),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      messages.map(() => 200),
    );
    const { body } = await get(instances[0] as ApiProcess, '/api/v1/sessions/crowded');
    const history: Array<{ role: string; content: string }> = body.conversation_history;
    assert.equal(history.length, 40);
    assert.deepEqual(
      history.map((m) => m.role),
      messages.flatMap(() => ['user', 'assistant']),
      'each message followed by its reply',
    );
    assert.deepEqual(
      history
        .filter((m) => m.role === 'user')
        .map((m) => m.content)
        .sort(),
      [...messages].sort(),
    );
    assert.equal(body.version, 20);
    // Whatever the order: hesitations before the description ask for details, the description
    // starts the problem (attempt 1), hesitations after it consume no attempt.
    assert.equal(body.state, 'waiting_feedback');
    assert.equal(body.current_attempt, 1);
  });

  it('list, from any instance, the sessions created on the others', async () => {
    for (const [i, instance] of instances.entries())
      await post(instance, 'a torneira está pingando', `made-on-${i}`);
    for (const instance of instances) {
      const { body } = await get(instance, '/api/v1/chat/sessions');
      const ids = body.sessions.map((s: { session_id: string }) => s.session_id);
      for (const id of ['made-on-0', 'made-on-1', 'made-on-2', 'roaming'])
        assert.ok(ids.includes(id), `${id} in ${ids}`);
    }
  });

  it('lose no session when every instance restarts', async () => {
    const codes = await Promise.all(instances.map((instance) => instance.stop('SIGTERM')));
    assert.deepEqual(codes, [0, 0, 0]);
    instances = await Promise.all([
      startApiProcess(env()),
      startApiProcess(env()),
      startApiProcess(env()),
    ]);
    const { body } = await get(instances[2] as ApiProcess, '/api/v1/chat/sessions');
    assert.equal(body.total, 5);
    const next = await post(instances[0] as ApiProcess, 'sim', 'made-on-1');
    assert.equal(next.body.state, 'resolved');
  });

  it('finish a request in flight on SIGTERM, save its session, refuse new connections, and exit 0', async () => {
    const instance = await startApiProcess({ ...env(), REDIS_COMMAND_TIMEOUT_MS: '20000' });
    redis.server.signal('SIGSTOP'); // the next request now waits on Redis
    try {
      const inFlight = post(instance, 'a porta está rangendo', 'in-flight');
      await sleep(1000); // the request reaches the server and waits on the frozen Redis
      const exitCode = instance.stop('SIGTERM');
      await sleep(500);
      await assert.rejects(fetch(`${instance.base}/health`), 'no new connections while closing');
      redis.server.signal('SIGCONT');
      const { status, body } = await inFlight;
      assert.equal(status, 200);
      assert.equal(body.state, 'waiting_feedback');
      assert.equal(await exitCode, 0, instance.output());
    } finally {
      redis.server.signal('SIGCONT');
    }
    const stored = JSON.parse((await redis.raw.get('cql:session:in-flight')) ?? '{}');
    assert.equal(stored.conversation_history.length, 2);
    assert.match(instance.output(), /"event_type":"server_stopped"/);
  });
});
