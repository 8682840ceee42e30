/** The Redis connection: one URL or separate settings, and a Cluster, Sentinel or TLS. */
import { z } from 'zod';
import { redactRedisUrl } from '../redact.js';
import { PROBLEMS, RULES } from '../texts/config.js';
import { DEFAULTS } from './defaults.js';
import { type HostPort, nodeList, readableFile, shown, wholeNumber } from './values.js';

export type RedisNode = HostPort;

export interface RedisConnectionConfig {
  /** Full connection URL, password included: give it to the client, never to a log. */
  readonly url: string;
  /** The same URL with the password replaced by `***`. */
  readonly redactedUrl: string;
  /** REDIS_CONNECT_TIMEOUT_MS. @default 2000 */
  readonly connectTimeoutMs: number;
  /** REDIS_COMMAND_TIMEOUT_MS. @default 500 */
  readonly commandTimeoutMs: number;
  /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster; empty for a single server.
   * Credentials and TLS come from the URL. @default [] */
  readonly clusterNodes: readonly RedisNode[];
  /** REDIS_SENTINELS and REDIS_SENTINEL_NAME: find the master through Sentinel. @default none */
  readonly sentinel: { readonly nodes: readonly RedisNode[]; readonly name: string } | undefined;
  /** REDIS_TLS_CA, REDIS_TLS_CERT, REDIS_TLS_KEY: PEM file paths for a private CA and a client
   * certificate (used with rediss:// URLs). @default none */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Where the sessions live, for logs: the redacted URL, the cluster nodes or the sentinels. */
  readonly description: string;
}

export const redisVariables = {
  REDIS_URL: z.string().trim().optional(),
  REDIS_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]+$|^\[[0-9A-Fa-f:.]+\]$/, RULES.hostName)
    .default('localhost'),
  REDIS_PORT: wholeNumber(1, 65535).default(6379),
  REDIS_DB: wholeNumber(0, 2147483647).default(0),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_USERNAME: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, RULES.printable(1, 128))
    .optional(),
  REDIS_CLUSTER_NODES: nodeList.optional(),
  REDIS_SENTINELS: nodeList.optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, RULES.sentinelName)
    .default('mymaster'),
  REDIS_TLS_CA: readableFile.optional(),
  REDIS_TLS_CERT: readableFile.optional(),
  REDIS_TLS_KEY: readableFile.optional(),
  REDIS_CONNECT_TIMEOUT_MS: wholeNumber(1, 60000).default(DEFAULTS.redisConnectTimeoutMs),
  REDIS_COMMAND_TIMEOUT_MS: wholeNumber(1, 60000).default(DEFAULTS.redisCommandTimeoutMs),
};

type RedisEnv = z.output<z.ZodObject<typeof redisVariables>>;

function parseRedisUrl(raw: string): { url: URL } | { problem: string } {
  const received = shown('REDIS_URL', raw);
  const invalid = PROBLEMS.redisUrlForm(received);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: invalid };
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    return { problem: invalid };
  }
  if (url.search !== '' || url.hash !== '') {
    return { problem: PROBLEMS.redisUrlQuery(received) };
  }
  if (!/^(\/\d{0,10})?$/.test(url.pathname) || Number(url.pathname.slice(1)) > 2147483647) {
    return { problem: PROBLEMS.redisUrlDatabase(received) };
  }
  return { url };
}

/** The connection settings, checked together; `{problem}` names what does not fit. */
export function redisConnection(env: RedisEnv): RedisConnectionConfig | { problem: string } {
  let url: URL;
  const tlsFiles = { ca: env.REDIS_TLS_CA, cert: env.REDIS_TLS_CERT, key: env.REDIS_TLS_KEY };
  const wantsTls = Object.values(tlsFiles).some((file) => file !== undefined);
  if (env.REDIS_URL) {
    const parsed = parseRedisUrl(env.REDIS_URL);
    if ('problem' in parsed) return parsed;
    url = parsed.url;
    if (wantsTls && url.protocol !== 'rediss:') {
      return { problem: PROBLEMS.tlsNeedsRediss(shown('REDIS_URL', env.REDIS_URL)) };
    }
  } else {
    const scheme = wantsTls ? 'rediss' : 'redis';
    url = new URL(`${scheme}://${env.REDIS_HOST}:${env.REDIS_PORT}/${env.REDIS_DB}`);
  }
  if ((tlsFiles.cert === undefined) !== (tlsFiles.key === undefined)) {
    return { problem: PROBLEMS.tlsCertWithoutKey };
  }
  // REDIS_USERNAME and REDIS_PASSWORD complete a URL that carries none.
  if (url.username === '' && env.REDIS_USERNAME) url.username = env.REDIS_USERNAME;
  if (url.password === '' && env.REDIS_PASSWORD) url.password = env.REDIS_PASSWORD;

  const clusterNodes = env.REDIS_CLUSTER_NODES ?? [];
  const sentinelNodes = env.REDIS_SENTINELS;
  if (clusterNodes.length > 0 && sentinelNodes) {
    return { problem: PROBLEMS.clusterAndSentinel };
  }
  const database = Number(url.pathname.slice(1) || 0);
  if (clusterNodes.length > 0 && database !== 0) {
    return { problem: PROBLEMS.clusterDatabase(database) };
  }
  const redactedUrl = redactRedisUrl(url.href);
  const nodes = (list: readonly RedisNode[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  const description =
    clusterNodes.length > 0
      ? `cluster ${nodes(clusterNodes)}`
      : sentinelNodes
        ? `sentinel ${env.REDIS_SENTINEL_NAME} at ${nodes(sentinelNodes)}`
        : redactedUrl;
  return {
    url: url.href,
    redactedUrl,
    connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    clusterNodes: Object.freeze(clusterNodes.map((node) => Object.freeze(node))),
    sentinel: sentinelNodes
      ? Object.freeze({
          nodes: Object.freeze(sentinelNodes.map((node) => Object.freeze(node))),
          name: env.REDIS_SENTINEL_NAME,
        })
      : undefined,
    tls: Object.freeze(
      Object.fromEntries(Object.entries(tlsFiles).filter(([, file]) => file !== undefined)),
    ),
    description,
  };
}
