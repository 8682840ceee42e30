/**
 * One Redis connection, whatever the topology: a single server, a Cluster (`createCluster`, keys
 * routed by slot, every master scanned for listings) or a master found through Sentinel
 * (`createSentinel`, which follows a failover). The store talks to the two narrow views below
 * and never to a topology's own client type.
 */
import { EventEmitter } from 'node:events';
import { createClient, createCluster, createSentinel, RESP_TYPES } from '@redis/client';
import * as scripts from './redis-scripts.js';

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisConnectionOptions {
  /** redis:// or rediss:// URL: credentials, TLS and database. For a cluster or Sentinel, only
   * its credentials and scheme are used. */
  url: string;
  /** Seed nodes of a Redis Cluster. */
  cluster?: { nodes: readonly RedisNodeAddress[] } | undefined;
  /** Sentinels, and the name of the master they watch. */
  sentinel?: { nodes: readonly RedisNodeAddress[]; name: string } | undefined;
  /** PEM contents for a private CA and a client certificate (rediss:// only). */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } | undefined;
  connectTimeoutMs: number;
  /** Reconnection delay once connected; at start-up an error ends the attempt at once. */
  reconnectDelay: (retries: number) => number;
  /** Commands waiting at once; past it, new ones fail instead of piling up. */
  maxQueuedCommands: number;
}

export interface SetOptions {
  expiration: { type: 'EX'; value: number };
}

/** Commands on one key, sent to the node that holds it. */
export interface KeyCommands {
  get(key: string): Promise<string | null>;
  /** Bytes `start` to `end` (inclusive) as text; "" for a missing key. */
  getRange(key: string, start: number, end: number): Promise<string>;
  set(key: string, value: string, options: SetOptions): Promise<unknown>;
  unlink(key: string): Promise<number>;
  exists(key: string): Promise<number>;
  ttl(key: string): Promise<number>;
  setIf(
    key: string,
    value: string,
    ttl: number,
    min: number,
    max: number,
    createdAt: string,
    maxValueBytes: number,
  ): Promise<[number, number]>;
  /** See redis-scripts setIfStamp. */
  setIfStamp(key: string, value: string, stamp: string, ttl: number): Promise<number>;
  /** See redis-scripts moveAside. */
  moveAside(
    key: string,
    target: string,
    read: { value: string } | { refusedOver: number },
    keepMs: number,
  ): Promise<'moved' | 'gone' | 'replaced'>;
}

/** Commands whose strings come back as bytes, undecoded. */
export interface ByteCommands {
  getRange(key: string, start: number, end: number): Promise<Buffer>;
}

/** A server holding part (or all) of the keyspace: what listing, purging and INFO need. */
export interface KeyspaceNode {
  readonly address: string;
  scan(cursor: string, match: string, count: number): Promise<{ cursor: string; keys: string[] }>;
  /** Sends the commands in one round trip; rejects with the first error reply, if any. */
  pipeline(commands: string[][]): Promise<unknown[]>;
  /** One command on its own: its error reply rejects this one alone. */
  send(args: string[]): Promise<unknown>;
  info(): Promise<string>;
  ping(): Promise<unknown>;
}

export interface RedisConnection extends EventEmitter {
  readonly topology: 'single' | 'cluster' | 'sentinel';
  readonly keys: KeyCommands;
  readonly bytes: ByteCommands;
  /** The masters, in a stable order (by address). */
  nodes(): Promise<KeyspaceNode[]>;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  /** True once connect() has succeeded: failures after that are reconnected. */
  readonly started: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

const binary = { [RESP_TYPES.BLOB_STRING]: Buffer };

/** The parts of a plain client that a KeyspaceNode uses. */
interface NodeClient {
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{
    cursor: string;
    keys: string[];
  }>;
  multi(): {
    addCommand(args: string[]): unknown;
    execAsPipeline(): Promise<unknown[]>;
  };
  info(): Promise<string>;
  ping(): Promise<unknown>;
}

function keyspaceNode(
  address: string,
  client: NodeClient,
  send: (args: string[]) => Promise<unknown>,
): KeyspaceNode {
  return {
    address,
    scan: (cursor, match, count) => client.scan(cursor, { MATCH: match, COUNT: count }),
    pipeline: (commands) => {
      const pipeline = client.multi();
      for (const args of commands) pipeline.addCommand(args);
      return pipeline.execAsPipeline();
    },
    send,
    info: () => client.info(),
    ping: () => client.ping(),
  };
}

/** Client options shared by every topology's data connections. */
function clientOptions(options: RedisConnectionOptions, connected: () => boolean) {
  const url = new URL(options.url);
  const tls = url.protocol === 'rediss:';
  const database = Number(url.pathname.slice(1) || 0);
  return {
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    // The URL's database, for the clients built from options rather than from the URL
    // (Sentinel's); a Cluster has only database 0.
    ...(database > 0 ? { database } : {}),
    disableOfflineQueue: true,
    commandsQueueMaxLength: options.maxQueuedCommands,
    // Every operation has its own deadline in the store, covering commands already sent; the
    // client's timer (only for commands not yet sent) would be a second one per command.
    commandOptions: { timeout: 0 },
    // Redis Enterprise maintenance notifications: not used here.
    maintNotifications: 'disabled' as const,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected() ? options.reconnectDelay(retries) : new Error(cause.message, { cause }),
      ...(tls ? { tls: true as const, ...options.tls } : {}),
    },
  };
}

/** Builds the connection (not yet connected). */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const { ca, cert, key } = options.tls ?? {};
  if ((ca ?? cert ?? key) !== undefined && !options.url.startsWith('rediss:')) {
    throw new TypeError('TLS files were given with a redis:// URL: use rediss:// (TLS)');
  }
  // Until the first connection succeeds, an error ends the attempt; after it, reconnections.
  const state = { started: false };
  const connected = () => state.started;
  if (options.cluster) return clusterConnection(options, options.cluster.nodes, state, connected);
  if (options.sentinel) return sentinelConnection(options, options.sentinel, state, connected);
  return singleConnection(options, state, connected);
}

/** What the three topologies' clients have in common. */
interface TopologyClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): unknown;
  withTypeMapping(mapping: typeof binary): unknown;
}

class Connection extends EventEmitter implements RedisConnection {
  readonly keys: KeyCommands;
  readonly bytes: ByteCommands;
  readonly #client: TopologyClient;
  readonly #state: { started: boolean };

  constructor(
    readonly topology: RedisConnection['topology'],
    client: TopologyClient,
    state: { started: boolean },
    readonly nodes: () => Promise<KeyspaceNode[]>,
  ) {
    super();
    this.#client = client;
    this.#state = state;
    this.keys = client as unknown as KeyCommands;
    this.bytes = client.withTypeMapping(binary) as ByteCommands;
  }
  get isReady() {
    return this.#client.isReady;
  }
  get isOpen() {
    return this.#client.isOpen;
  }
  get started() {
    return this.#state.started;
  }
  async connect() {
    await this.#client.connect();
    this.#state.started = true;
  }
  close() {
    return this.#client.close();
  }
  destroy() {
    void this.#client.destroy();
  }
}

function singleConnection(
  options: RedisConnectionOptions,
  state: { started: boolean },
  connected: () => boolean,
): RedisConnection {
  const client = createClient({ url: options.url, scripts, ...clientOptions(options, connected) });
  const node = keyspaceNode('server', client as unknown as NodeClient, (args) =>
    client.sendCommand(args),
  );
  const connection = new Connection('single', client, state, async () => [node]);
  client.on('error', (error: Error) => connection.emit('error', error));
  client.on('ready', () => connection.emit('ready'));
  return connection;
}

function clusterConnection(
  options: RedisConnectionOptions,
  nodes: readonly RedisNodeAddress[],
  state: { started: boolean },
  connected: () => boolean,
): RedisConnection {
  const cluster = createCluster({
    rootNodes: nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
    defaults: clientOptions(options, connected),
    scripts,
    useReplicas: false,
  });
  const masters = async () => {
    const sorted = [...cluster.masters].sort((a, b) => a.address.localeCompare(b.address));
    return Promise.all(
      sorted.map(async (master) => {
        const client = await cluster.nodeClient(master);
        return keyspaceNode(master.address, client as unknown as NodeClient, (args) =>
          client.sendCommand(args),
        );
      }),
    );
  };
  const connection = new Connection('cluster', cluster, state, masters);
  cluster.on('error', (error: Error) => connection.emit('error', error));
  cluster.on('node-error', (error: Error) => connection.emit('error', error));
  cluster.on('node-ready', () => {
    if (cluster.isReady) connection.emit('ready');
  });
  return connection;
}

function sentinelConnection(
  options: RedisConnectionOptions,
  sentinel: { nodes: readonly RedisNodeAddress[]; name: string },
  state: { started: boolean },
  connected: () => boolean,
): RedisConnection {
  const client = createSentinel({
    name: sentinel.name,
    sentinelRootNodes: sentinel.nodes.map((node) => ({ host: node.host, port: node.port })),
    nodeClientOptions: clientOptions(options, connected),
    sentinelClientOptions: { socket: { connectTimeout: options.connectTimeoutMs } },
    scripts,
    masterPoolSize: 1,
    // The master's connection errors too (reported as 'client-error' otherwise).
    passthroughClientErrorEvents: true,
  });
  // Every command goes to the current master.
  const node = keyspaceNode(`sentinel:${sentinel.name}`, client as unknown as NodeClient, (args) =>
    client.sendCommand(false, args),
  );
  const connection = new Connection('sentinel', client, state, async () => [node]);
  // Some of Sentinel's errors are plain strings.
  client.on('error', (error: unknown) =>
    connection.emit('error', error instanceof Error ? error : new Error(String(error))),
  );
  client.on('ready', () => connection.emit('ready'));
  return connection;
}
