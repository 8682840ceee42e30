/**
 * A private Redis Sentinel setup for tests: one master, one replica and three sentinels (quorum
 * 2), each a redis-server from startRedisServer (free loopback port, own folder, stopped by PID).
 * Sentinels notice a dead master after 1 s, so a failover takes a few seconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisCli } from './redis-cluster.js';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { until } from './until.js';

export interface SentinelNode {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
}

export interface SentinelSetup {
  /** The monitored master's name (the `name` of createSentinel). */
  readonly name: string;
  /** The data nodes as started; after a failover the replica is the master. */
  readonly master: SentinelNode;
  readonly replica: SentinelNode;
  readonly sentinels: SentinelNode[];
  /** SIGKILLs the data node the sentinels currently name as master. */
  killMaster(): void;
  /** The master's address according to the sentinels (SENTINEL get-master-addr-by-name). */
  currentMaster(): Promise<{ host: string; port: number }>;
  /** Stops the sentinels and the data nodes (whichever is alive) and removes their folders. */
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Default 'mymaster'. */
  name?: string;
  /** `requirepass` and `masterauth` on the data nodes, `sentinel auth-pass` on the sentinels
   * (the sentinels themselves need no password). */
  password?: string;
}

const SENTINELS = 3;

/** Generous: replication and the sentinels' discovery are slower on a loaded machine. */
const READY_MS = 60000;

/** Waits until `check` finds no problem; at the deadline, fails with the last one it found. */
async function waitFor(what: string, check: () => Promise<string | undefined>): Promise<void> {
  let problem: string | undefined;
  await until(
    async () => {
      problem = await check().catch((error: unknown) => String(error));
      return problem === undefined;
    },
    () => `${what}: ${problem}`,
    READY_MS,
    100,
  );
}

/** redis-cli prints a flat reply as one value a line: field, value, field, value… */
function fields(output: string): Map<string, string> {
  const lines = output.trimEnd().split('\n');
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) map.set(lines[i] as string, lines[i + 1] as string);
  return map;
}

function node(server: RedisServer): SentinelNode {
  return { host: '127.0.0.1', port: server.port, pid: server.pid };
}

function sentinelConfig(name: string, masterPort: number, password: string | undefined): string {
  const lines = [
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 3000`,
    `sentinel parallel-syncs ${name} 1`,
    'sentinel resolve-hostnames no',
  ];
  if (password !== undefined) lines.push(`sentinel auth-pass ${name} ${password}`);
  return `${lines.join('\n')}\n`;
}

async function startSentinel(config: string): Promise<RedisServer> {
  // Sentinel rewrites its configuration file: one folder each.
  const dir = mkdtempSync(join(tmpdir(), 'cql-sentinel-'));
  const configFile = join(dir, 'sentinel.conf');
  writeFileSync(configFile, config);
  try {
    return await startRedisServer({ dir, configFile, args: ['--sentinel'] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function startSentinelSetup(options: SentinelOptions = {}): Promise<SentinelSetup> {
  const name = options.name ?? 'mymaster';
  const { password } = options;
  const withPassword = password === undefined ? {} : { password };
  // No 5 s wait before a full sync (the Redis 7 default for diskless replication).
  const dataArgs = ['--repl-diskless-sync-delay', '0'];
  if (password !== undefined) dataArgs.push('--masterauth', password);

  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const master = await startRedisServer({ ...withPassword, args: dataArgs });
    servers.push(master);
    const replicaof = ['--replicaof', '127.0.0.1', String(master.port)];
    const replica = await startRedisServer({ ...withPassword, args: [...dataArgs, ...replicaof] });
    servers.push(replica);
    // Sentinels learn of replicas from the master's INFO, which they read every 10 s once
    // connected: let the replica register first so that the first read already lists it.
    await waitFor('the replica to sync', async () => {
      const info = await redisCli(replica.port, password, ['INFO', 'replication']);
      return info.includes('master_link_status:up') ? undefined : info;
    });

    const config = sentinelConfig(name, master.port, password);
    const sentinels = await Promise.all(
      Array.from({ length: SENTINELS }, async () => {
        const sentinel = await startSentinel(config);
        servers.push(sentinel);
        return sentinel;
      }),
    );
    await waitFor('the sentinels to see the whole setup', async () => {
      const replies = await Promise.all(
        sentinels.map((sentinel) =>
          redisCli(sentinel.port, undefined, ['SENTINEL', 'MASTER', name]),
        ),
      );
      for (const reply of replies) {
        const state = fields(reply);
        const ready =
          state.get('port') === String(master.port) &&
          state.get('flags') === 'master' &&
          state.get('num-slaves') === '1' &&
          state.get('num-other-sentinels') === String(SENTINELS - 1);
        if (!ready) return reply;
      }
      return undefined;
    });

    const dataNodes = [master, replica];
    const sentinelNodes = sentinels.map(node);
    const askSentinels = async (): Promise<{ host: string; port: number }> => {
      let lastError: unknown;
      for (const sentinel of sentinelNodes) {
        try {
          const reply = await redisCli(sentinel.port, undefined, [
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            name,
          ]);
          const [host, port] = reply.trim().split('\n');
          if (host && port) return { host, port: Number(port) };
          lastError = new Error(`sentinel ${sentinel.port} answered ${JSON.stringify(reply)}`);
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError;
    };
    const masterPortNow = (): number => {
      for (const sentinel of sentinelNodes) {
        try {
          const reply = execFileSync(
            'redis-cli',
            [
              '-h',
              '127.0.0.1',
              '-p',
              String(sentinel.port),
              'SENTINEL',
              'GET-MASTER-ADDR-BY-NAME',
              name,
            ],
            { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] },
          );
          const port = Number(reply.trim().split('\n')[1]);
          if (Number.isInteger(port) && port > 0) return port;
        } catch {
          // try the next sentinel
        }
      }
      return master.port;
    };

    return {
      name,
      master: node(master),
      replica: node(replica),
      sentinels: sentinelNodes,
      killMaster: () => {
        const port = masterPortNow();
        const current = dataNodes.find((server) => server.port === port);
        if (!current) throw new Error(`the sentinels name an unknown master on port ${port}`);
        current.signal('SIGKILL');
      },
      currentMaster: askSentinels,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
