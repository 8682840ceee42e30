/**
 * A private Redis Cluster for tests: N masters without replicas, each a redis-server from
 * startRedisServer (free loopback port, own folder, stopped by PID), joined by
 * `redis-cli --cluster create`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, type RedisServer, startRedisServer } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);

/** The machine's Redis and its cluster bus port. */
const RESERVED_PORTS = new Set([6379, 16379]);

export interface RedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly pids: number[];
  /** redis://[:password@]127.0.0.1:<first node's port> */
  url(): string;
  /** SIGKILL one node (by its index in `nodes`). */
  killNode(index: number): void;
  /** Stops every node and removes their folders. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Number of masters (each gets an equal share of the 16384 slots). Default 3. */
  masters?: number;
  /** `requirepass` and `masterauth` on every node. */
  password?: string;
}

/** Runs redis-cli and returns its standard output. */
export async function redisCli(
  port: number,
  password: string | undefined,
  args: string[],
  timeoutMs = 5000,
): Promise<string> {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
  const { stdout } = await run(
    'redis-cli',
    ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args],
    {
      timeout: timeoutMs,
      encoding: 'utf8',
    },
  );
  return stdout;
}

async function freeBusPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!RESERVED_PORTS.has(port)) return port;
  }
}

/**
 * The cluster bus gets its own free port (`--cluster-port`) rather than the default port+10000,
 * which can be taken or above 65535. A bus port taken in the meantime makes the node exit: try
 * again with another one.
 */
interface ClusterNode {
  readonly server: RedisServer;
  readonly busPort: number;
}

async function startNode(password: string | undefined): Promise<ClusterNode> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const busPort = await freeBusPort();
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
    args.push('--cluster-node-timeout', '2000', '--cluster-port', String(busPort));
    if (password !== undefined) args.push('--masterauth', password);
    try {
      const server = await startRedisServer({
        args,
        ...(password === undefined ? {} : { password }),
      });
      return { server, busPort };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Generous: the nodes gossip until they agree, which a loaded machine slows down. */
const CLUSTER_READY_MS = 60000;

async function waitUntilOk(ports: number[], password: string | undefined): Promise<void> {
  let last = '';
  await until(
    async () => {
      const infos = await Promise.all(
        ports.map((port) => redisCli(port, password, ['CLUSTER', 'INFO']).catch(String)),
      );
      last = infos.join('\n');
      return infos.every(
        (info) =>
          info.includes('cluster_state:ok') &&
          info.includes(`cluster_known_nodes:${ports.length}\r`) &&
          info.includes('cluster_slots_assigned:16384'),
      );
    },
    () => `the cluster to reach cluster_state:ok:\n${last}`,
    CLUSTER_READY_MS,
    100,
  );
}

/** Fewer than 3 masters: redis-cli refuses them, so assign the slots and meet by hand. */
async function joinByHand(nodes: ClusterNode[], password: string | undefined): Promise<void> {
  const share = Math.ceil(16384 / nodes.length);
  await Promise.all(
    nodes.map(async ({ server }, index) => {
      const first = index * share;
      const last = Math.min(16383, first + share - 1);
      await redisCli(server.port, password, [
        'CLUSTER',
        'ADDSLOTSRANGE',
        String(first),
        String(last),
      ]);
      await redisCli(server.port, password, ['CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1)]);
    }),
  );
  const [first, ...others] = nodes;
  if (!first) return;
  for (const { server, busPort } of others) {
    const meet = ['CLUSTER', 'MEET', '127.0.0.1', String(server.port), String(busPort)];
    await redisCli(first.server.port, password, meet);
  }
}

export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const { password } = options;
  if (!Number.isInteger(masters) || masters < 1) throw new Error(`masters must be ≥ 1: ${masters}`);
  const started = await Promise.allSettled(
    Array.from({ length: masters }, () => startNode(password)),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const servers = nodes.map((node) => node.server);
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const ports = servers.map((server) => server.port);
    if (masters >= 3) {
      const addresses = ports.map((port) => `127.0.0.1:${port}`);
      const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
      await run(
        'redis-cli',
        [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 60000, encoding: 'utf8' },
      ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `redis-cli --cluster create failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
        );
      });
    } else {
      await joinByHand(nodes, password);
    }
    await waitUntilOk(ports, password);
  } catch (error) {
    await stop();
    throw error;
  }
  const first = servers[0] as RedisServer;
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    pids: servers.map((server) => server.pid),
    url: () => `redis://${auth}127.0.0.1:${first.port}`,
    killNode: (index) => {
      const server = servers[index];
      if (!server) throw new RangeError(`no cluster node ${index} (there are ${servers.length})`);
      server.signal('SIGKILL');
    },
    stop,
  };
}
