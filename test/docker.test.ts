/**
 * The deployment files, checked without a Docker engine (there is none on this machine):
 * `docker-compose config` validates the compose file; the Redis command line and the image's
 * HEALTHCHECK command are run here as the containers would run them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient, type RedisClientType } from '@redis/client';
import { parse } from 'yaml';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import { freePort, redisTestOptions } from './support/redis-server.js';
import { until } from './support/until.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

function composeOptions(): { skip?: string } {
  if (spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0) return {};
  if (process.env.REQUIRE_REDIS === '1')
    throw new Error('REQUIRE_REDIS=1 but docker-compose is not installed');
  return { skip: 'docker-compose not installed (apt-get install docker-compose)' };
}

interface Compose {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, string> }>;
  volumes: Record<string, unknown>;
}

function composeConfig(env: Record<string, string>): Compose {
  const out = execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], {
    env: { PATH: process.env.PATH ?? '', COMPOSE_PROJECT_NAME: 'cql-agent', ...env },
    encoding: 'utf8',
  });
  return parse(out) as Compose;
}

describe('docker-compose.yml', composeOptions(), () => {
  it('is valid and describes the documented services', () => {
    const config = composeConfig({ REDIS_PASSWORD: 'compose-secret' });
    const redis = config.services.redis ?? {};
    const api = config.services.api ?? {};
    assert.equal(redis.image, 'redis:7-alpine');
    assert.equal(redis.container_name, 'repair-agent-redis');
    assert.deepEqual(redis.volumes, ['redis_data:/data:rw']);
    assert.ok(config.volumes.redis_data !== undefined, 'a named volume');
    assert.ok((redis.healthcheck as { test: string[] }).test.join(' ').includes('ping'));
    assert.equal(api.container_name, 'repair-agent-api');
    assert.deepEqual(api.depends_on, { redis: { condition: 'service_healthy' } });
    assert.equal(api.environment?.USE_REDIS, 'true');
    assert.equal(api.environment?.REDIS_URL, 'redis://redis:6379/0');
    assert.equal(api.environment?.REDIS_PASSWORD, 'compose-secret');
    assert.deepEqual(api.ports, [{ published: 5000, target: 5000 }]);
    const notForCompose = [
      'REDIS_HOST',
      'REDIS_PORT',
      'REDIS_DB',
      'HOST',
      'PORT',
      'MEMORY_SNAPSHOT_PATH',
      'MEMORY_SNAPSHOT_INTERVAL',
      'COMPOSE_PROJECT_NAME',
      // The compose file runs its own single Redis, in plain text on its private network.
      'REDIS_CLUSTER_NODES',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_NAME',
      'REDIS_TLS_CA',
      'REDIS_TLS_CERT',
      'REDIS_TLS_KEY',
    ];
    const variables = [...read('.env.example').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1] ?? '');
    for (const name of variables.filter((v) => !notForCompose.includes(v))) {
      assert.ok(name in (api.environment ?? {}), `${name} reaches the api service`);
    }
  });

  for (const password of ['', 'compose-secret']) {
    describe(
      `its Redis ${password ? 'with' : 'without'} REDIS_PASSWORD`,
      redisTestOptions(),
      () => {
        const command =
          (composeConfig({ REDIS_PASSWORD: password }).services.redis?.command as string[]) ?? [];
        const auth = password ? `:${password}@` : '';
        let port: number;
        let dir: string;
        let child: ChildProcess | undefined;
        // The container's shell, with compose's $$ escapes undone; on a private port and folder.
        before(async () => {
          port = await freePort();
          dir = mkdtempSync(join(tmpdir(), 'cql-compose-'));
          const line = `${(command[2] ?? '').replaceAll('$$', '$')} --port "$PORT" --dir "$DIR" --save ''`;
          child = spawn('sh', ['-c', line], {
            env: {
              PATH: process.env.PATH ?? '',
              REDIS_PASSWORD: password,
              PORT: String(port),
              DIR: dir,
            },
            stdio: 'ignore',
          });
        });
        after(async () => {
          if (child && child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child?.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        });

        it(`starts Redis as documented ${password ? 'with' : 'without'} REDIS_PASSWORD`, async () => {
          assert.deepEqual(command.slice(0, 2), ['sh', '-c']);
          let client: RedisClientType | undefined;
          await until(async () => {
            if (child?.exitCode !== null)
              throw new Error(`redis-server exited (${child?.exitCode})`);
            const attempt: RedisClientType = createClient({
              url: `redis://${auth}127.0.0.1:${port}`,
              socket: { reconnectStrategy: false },
            });
            attempt.on('error', () => {});
            try {
              await attempt.connect();
              client = attempt;
              return true;
            } catch {
              attempt.destroy();
              return false;
            }
          }, 'the Redis of the compose file to accept connections');
          assert.ok(client);
          try {
            assert.equal(await client.ping(), 'PONG');
            assert.deepEqual(await client.configGet('appendonly'), { appendonly: 'yes' });
            assert.deepEqual(await client.configGet('maxmemory-policy'), {
              'maxmemory-policy': 'allkeys-lru',
            });
            assert.deepEqual(await client.configGet('maxmemory'), {
              maxmemory: String(256 * 1024 * 1024),
            });
          } finally {
            await client.close();
          }
          if (password) {
            const anonymous = createClient({
              url: `redis://127.0.0.1:${port}`,
              socket: { reconnectStrategy: false },
            });
            anonymous.on('error', () => {});
            await assert.rejects(anonymous.connect(), /NOAUTH|WRONGPASS/);
          }
        });
      },
    );
  }
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in two stages and runs production dependencies only, as a non-root user', () => {
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /npm ci --omit=dev/);
    assert.match(runtime, /COPY --from=build \/app\/dist/);
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /^CMD \["node", "dist\/cli\/main.js", "serve"\]$/m);
    assert.match(read('.dockerignore'), /^node_modules$/m);
  });

  it('runs on a supported Node.js LTS, ships the web app, and gives the key folder to "node"', () => {
    const images = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(images, ['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    const build = dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '));
    assert.match(build, /^COPY web \.\/web$/m);
    assert.match(build, /npm run build:web/);
    assert.match(dockerfile, /chown node:node \/app\/\.state/);
    assert.match(read('.dockerignore'), /^\.state$/m);
  });

  describe('HEALTHCHECK', () => {
    let api: ApiProcess;
    before(async () => {
      api = await startApiProcess({ ADMIN_API_KEY: 'a-long-admin-key-for-tests' }, { quiet: true });
    });
    after(() => api?.stop());

    it('has a HEALTHCHECK command that passes on a running API and fails without one', async () => {
      const script = /HEALTHCHECK[^\n]*\\\n\s*CMD \["node", "-e", "(.*)"\]/.exec(dockerfile)?.[1];
      assert.ok(script, 'a node -e HEALTHCHECK');
      // Its own deadline is the image's business; here the check is only given time to run.
      const check = (port: string) =>
        spawnSync(process.execPath, ['-e', script.replaceAll('\\"', '"')], {
          env: { PORT: port },
          timeout: 60000,
        }).status;
      assert.equal(check(new URL(api.base).port), 0);
      assert.equal(check(String(await freePort())), 1);
    });
  });
});
