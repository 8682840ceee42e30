/**
 * End to end over real sockets: one private redis-server and several `cql-agent serve`
 * processes on free ports, as in production behind a load balancer. Restarts of every instance:
 * api-e2e-restart.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { instancesClient, instancesEnv, startThree, stopAll } from './support/api-instances.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { startProxy, type TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/until.js';

describe('API instances over one Redis', redisTestOptions(), () => {
  const redis = useRedisServer({ args: ['--appendonly', 'yes'] });
  const { post, get } = instancesClient();
  const env = () => instancesEnv(redis.server.url());

  describe('three of them serving together', () => {
    let instances: ApiProcess[] = [];
    before(async () => {
      instances = await startThree(env());
    });
    after(() => stopAll(instances));
    const instance = (i: number) => instances[i % instances.length] as ApiProcess;

    it('run on Redis, each of them', async () => {
      for (const started of instances) {
        const { body } = await get(started, '/health');
        assert.equal(body.status, 'healthy', started.output());
        assert.equal(body.session_store.backend, 'redis');
        assert.equal(body.session_store.connected, true);
      }
    });

    it('carry one conversation whose turns go to a different instance each time', async () => {
      const turns = ['o disjuntor cai toda hora', 'não', 'talvez', 'não', 'não'];
      const seen = [];
      for (const [i, message] of turns.entries()) {
        const { status, body } = await post(instance(i), message, 'roaming');
        assert.equal(status, 200, JSON.stringify(body));
        seen.push([body.state, body.metadata.current_attempt]);
      }
      assert.deepEqual(seen, [
        ['waiting_feedback', 1],
        ['waiting_feedback', 2],
        ['waiting_feedback', 2],
        ['waiting_feedback', 3],
        ['max_attempts', 3],
      ]);
      const { body } = await get(instance(1), '/api/v1/sessions/roaming');
      assert.equal(body.conversation_history.length, 10);
      assert.deepEqual(
        body.conversation_history
          .filter((m: { role: string }) => m.role === 'user')
          .map((m: { content: string }) => m.content),
        turns,
      );
      assert.equal(body.version, 5, 'saved once per turn, the first one creating it');
    });

    it('apply all of 19 messages sent at once for one session, spread over the three instances', async () => {
      // The first message creates the session and gives its token; the others then race.
      const first = await post(instance(0), 'a torneira está pingando', 'crowded');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const messages = Array.from({ length: 19 }, (_, i) => `talvez ${i + 1}`);
      const answers = await Promise.all(
        messages.map((message, i) => post(instance(i + 1), message, 'crowded')),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        messages.map(() => 200),
        JSON.stringify(answers.filter((a) => a.status !== 200)),
      );
      const { body } = await get(instance(0), '/api/v1/sessions/crowded');
      const history: Array<{ role: string; content: string }> = body.conversation_history;
      assert.equal(history.length, 40);
      assert.deepEqual(
        history.map((m) => m.role),
        Array.from({ length: 20 }, () => ['user', 'assistant']).flat(),
        'each message followed by its reply',
      );
      assert.deepEqual(
        history
          .filter((m) => m.role === 'user')
          .map((m) => m.content)
          .sort(),
        ['a torneira está pingando', ...messages].sort(),
      );
      assert.equal(history[0]?.content, 'a torneira está pingando');
      assert.equal(body.version, 20);
      // Hesitations after the description consume no attempt, in whatever order they came.
      assert.equal(body.state, 'waiting_feedback');
      assert.equal(body.current_attempt, 1);
    });

    it('list, from any instance, the sessions created on the others', async () => {
      for (const [i, made] of instances.entries()) {
        const { status } = await post(made, 'a torneira está pingando', `made-on-${i}`);
        assert.equal(status, 200);
      }
      for (const listing of instances) {
        const { body } = await get(listing, '/api/v1/chat/sessions');
        const ids = body.sessions.map((s: { session_id: string }) => s.session_id);
        for (const id of ['made-on-0', 'made-on-1', 'made-on-2'])
          assert.ok(ids.includes(id), `${id} in ${ids}`);
      }
    });
  });

  describe('one of them stopped with a request in flight', () => {
    // Its Redis goes through a proxy that shows when the request's command went out.
    let proxy: TcpProxy;
    let instance: ApiProcess;
    before(async () => {
      proxy = await startProxy(redis.server.port, { record: true });
      instance = await startApiProcess({
        ...env(),
        REDIS_URL: `redis://127.0.0.1:${proxy.port}/0`,
        REDIS_COMMAND_TIMEOUT_MS: '60000',
      });
    });
    after(async () => {
      redis.server.signal('SIGCONT');
      await instance?.stop('SIGKILL');
      await proxy?.close();
    });

    it('finishes it on SIGTERM, saves its session, refuses new connections, and exits 0', async () => {
      redis.server.signal('SIGSTOP'); // the next request now waits on Redis
      try {
        const inFlight = post(instance, 'a porta está rangendo', 'in-flight');
        await until(
          () => proxy.sent().includes('in-flight'),
          'the request to reach the server and wait on the frozen Redis',
        );
        const exitCode = instance.stop('SIGTERM');
        const refused = async () => {
          try {
            await fetch(`${instance.base}/health`);
            return false;
          } catch {
            return true;
          }
        };
        await until(refused, 'the stopping server to refuse new connections');
        assert.equal(instance.child.exitCode, null, 'still running: the request is in flight');
        redis.server.signal('SIGCONT');
        const { status, body } = await inFlight;
        assert.equal(status, 200, JSON.stringify(body));
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
});
