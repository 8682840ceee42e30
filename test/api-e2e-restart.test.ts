/**
 * End to end over real sockets: every `cql-agent serve` instance over one private redis-server
 * stopped on SIGTERM and started again, as in a deployment; no session is lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { instancesClient, instancesEnv, startThree, stopAll } from './support/api-instances.js';
import type { ApiProcess } from './support/api-process.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';

describe('API instances over one Redis, all restarted', redisTestOptions(), () => {
  const redis = useRedisServer({ args: ['--appendonly', 'yes'] });
  const { post, get } = instancesClient();
  const env = () => instancesEnv(redis.server.url());

  describe('all three restarted', () => {
    let exitCodes: Array<number | null> = [];
    let created: number[] = [];
    let instances: ApiProcess[] = [];
    // One generation makes sessions and stops on SIGTERM; the next one starts on the same Redis.
    before(async () => {
      const first = await startThree(env());
      try {
        created = await Promise.all(
          first.map(
            async (made, i) =>
              (await post(made, 'a torneira está pingando', `made-on-${i}`)).status,
          ),
        );
        exitCodes = await Promise.all(first.map((stopped) => stopped.stop('SIGTERM')));
      } finally {
        await stopAll(first);
      }
      instances = await startThree(env());
    });
    after(() => stopAll(instances));

    it('exit 0 on SIGTERM', () => {
      assert.deepEqual(created, [200, 200, 200], 'the sessions were made');
      assert.deepEqual(exitCodes, [0, 0, 0]);
    });

    it('lose no session', async () => {
      const { body } = await get(instances[2] as ApiProcess, '/api/v1/chat/sessions');
      assert.equal(body.total, 3);
      const next = await post(instances[0] as ApiProcess, 'sim', 'made-on-1');
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.equal(next.body.state, 'resolved');
    });
  });
});
