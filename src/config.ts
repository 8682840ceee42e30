/**
 * Environment (and an optional `.env` file) -> one frozen, validated Config.
 * Every bad value stops start-up with a message naming the variable and the value received;
 * secrets are shown as `***` in messages and in `toString()`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect, parseEnv } from 'node:util';
import { z } from 'zod';
import { redactUrl } from './agent/llm/http.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface EncryptionKey {
  /** Short public name of the key, written beside each value it encrypts (a hash of the key). */
  readonly id: string;
  /** 32 bytes (AES-256). */
  readonly key: Buffer;
}

export interface ApiConfig {
  /** HOST. @default "0.0.0.0" */
  readonly host: string;
  /** PORT. @default 5000 */
  readonly port: number;
  /** ADMIN_API_KEY: admin routes need `Authorization: Bearer <key>`; unset, they answer only
   * clients on loopback. */
  readonly adminApiKey: string | undefined;
  /** CORS_ORIGINS, a comma list. @default ["http://localhost:5173"] */
  readonly corsOrigins: readonly string[];
  /** RATE_LIMIT_PER_MINUTE per client IP on the chat route; 0 turns it off. @default 60 */
  readonly rateLimitPerMinute: number;
  /** TRUST_PROXY: take the client address from X-Forwarded-For (behind a reverse proxy).
   * @default false */
  readonly trustProxy: boolean;
}

export const LLM_PROVIDERS = ['offline', 'ollama', 'openai'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export interface LlmConfig {
  /** LLM_PROVIDER: who writes the solutions. @default "offline" (the knowledge base, no network) */
  readonly provider: LlmProvider;
  readonly ollama: {
    /** OLLAMA_BASE_URL. @default "http://localhost:11434" */
    readonly baseUrl: string;
    /** OLLAMA_MODEL. @default "qwen2.5:3b" */
    readonly model: string;
  };
  readonly openai: {
    /** OPENAI_BASE_URL, up to the API version. @default "https://api.openai.com/v1" */
    readonly baseUrl: string;
    /** OPENAI_API_KEY: give it to the client, never to a log. @default none */
    readonly apiKey: string | undefined;
    /** OPENAI_MODEL. @default "gpt-4o-mini" */
    readonly model: string;
  };
  /** LLM_TIMEOUT (seconds), in milliseconds. @default 60000 */
  readonly timeoutMs: number;
  /** LLM_HISTORY_MESSAGES: earlier messages of the conversation the model sees; it can see only
   * what the session keeps, so at most MAX_HISTORY_MESSAGES of them. @default 12 */
  readonly historyMessages: number;
  /** LLM_MAX_TOKENS: longest reply asked of the model, in tokens. @default 1024 */
  readonly maxTokens: number;
  /** LLM_RAG_PASSAGES: knowledge-base passages given to the model. @default 3 */
  readonly ragPassages: number;
  /** LLM_BREAKER_FAILURES: consecutive failures that stop calls to the model; 0 never.
   * @default 5 */
  readonly breakerFailures: number;
  /** LLM_BREAKER_COOLDOWN (seconds), in milliseconds. @default 30000 */
  readonly breakerCooldownMs: number;
  /** LLM_FALLBACK: "offline" answers with the knowledge base when the model fails.
   * @default "none" */
  readonly fallback: 'none' | 'offline';
  /** WEB_SEARCH_URL: a SearxNG instance (JSON API). @default none: web search unavailable */
  readonly webSearchUrl: string | undefined;
  /** KNOWLEDGE_DIR: more repair files beside the bundled `knowledge/`. @default none */
  readonly knowledgeDir: string | undefined;
}

export interface Config {
  /** USE_REDIS. @default false */
  readonly useRedis: boolean;
  readonly redis: RedisConnectionConfig;
  /** SESSION_TTL, seconds. @default 3600 */
  readonly sessionTtl: number;
  /** REDIS_KEY_PREFIX. @default "cql:session:" */
  readonly keyPrefix: string;
  /** LOG_LEVEL. @default "info" */
  readonly logLevel: LogLevel;
  /** MAX_ATTEMPTS. @default 3 */
  readonly maxAttempts: number;
  /** MEMORY_MAX_SESSIONS. @default 10000 */
  readonly memoryMaxSessions: number;
  /** SESSION_MAX_BYTES. @default 262144 */
  readonly sessionMaxBytes: number;
  /** MAX_HISTORY_MESSAGES. @default 100 */
  readonly maxHistoryMessages: number;
  /** MEMORY_SNAPSHOT_PATH: without Redis, sessions are saved there at shutdown and read back at
   * start-up. @default none */
  readonly memorySnapshotPath: string | undefined;
  /** MEMORY_SNAPSHOT_INTERVAL: how often (seconds) a changed memory store is written to
   * MEMORY_SNAPSHOT_PATH as well; 0: only at shutdown. @default 60 */
  readonly memorySnapshotIntervalSeconds: number;
  /** SESSION_ENCRYPTION_KEY or SESSION_ENCRYPTION_KEYS (the first one writes, all of them read):
   * AES-256-GCM encryption of each stored conversation. Empty: stored in clear. @default [] */
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly api: ApiConfig;
  readonly llm: LlmConfig;
  /** The configuration with secrets shown as `***` (also what JSON.stringify and loggers see). */
  toString(): string;
  toJSON(): object;
  /** The same redacted view for console.log() and util.inspect(). */
  [inspect.custom](): object;
}

export class ConfigError extends Error {
  readonly code = 'ERR_INVALID_CONFIG';
  override name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SECRET_VARIABLES = new Set([
  'REDIS_PASSWORD',
  'ADMIN_API_KEY',
  'SESSION_ENCRYPTION_KEY',
  'SESSION_ENCRYPTION_KEYS',
  'OPENAI_API_KEY',
]);

/** Hides the credentials of a Redis URL, even a malformed one, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname + parsed.search + parsed.hash;
    if (parsed.hostname !== '' && !rest.includes('@')) {
      if (parsed.password !== '') parsed.password = '***';
      return parsed.href;
    }
  } catch {
    // Not a URL: the blunt rule below.
  }
  // Everything before the last "@" may hold credentials.
  const at = url.lastIndexOf('@');
  return at === -1 ? url : `***${url.slice(at)}`;
}

function shown(variable: string, value: string): string {
  if (SECRET_VARIABLES.has(variable)) return '"***"';
  if (variable === 'REDIS_URL') return JSON.stringify(redactRedisUrl(value));
  if (variable.endsWith('_BASE_URL') || variable === 'WEB_SEARCH_URL')
    return JSON.stringify(redactUrl(value));
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'must be true or false',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const NODE = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** "host:port,host:port" -> nodes. */
const nodeList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((node) => node.trim())
      .filter(Boolean),
  )
  .refine(
    (nodes) =>
      nodes.length > 0 &&
      nodes.every((node) => {
        const port = Number(NODE.exec(node)?.[2] ?? 0);
        return port >= 1 && port <= 65535;
      }),
    { message: 'must be a comma list of host:port, as in 10.0.0.1:7000,10.0.0.2:7000' },
  )
  .transform((nodes): RedisNode[] =>
    nodes.map((node) => {
      const [, host = '', port = '0'] = NODE.exec(node) ?? [];
      return { host: host.replace(/^\[|\]$/g, ''), port: Number(port) };
    }),
  );

const readableFile = z
  .string()
  .trim()
  .refine((path) => existsSync(path), { message: 'must be the path of an existing file' });

/** Base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`). */
const encryptionKey = z
  .string()
  .trim()
  .refine((v) => /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32, {
    message: 'must be 32 bytes in base64, as made by `openssl rand -base64 32`',
  })
  .transform((v): EncryptionKey => {
    const key = Buffer.from(v, 'base64');
    return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
  });

const LOG_LEVEL_ALIASES: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal' };

const logLevel = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => LOG_LEVEL_ALIASES[v] ?? v)
  .refine((v): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v), {
    message: 'must be one of trace, debug, info, warning, error, critical, silent',
  });

/** An http(s) address without query or fragment (a path is allowed: http://host/v1). */
const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const url = new URL(v);
        const web = url.protocol === 'http:' || url.protocol === 'https:';
        return web && url.hostname !== '' && url.search === '' && url.hash === '';
      } catch {
        return false;
      }
    },
    {
      message:
        'must be an http:// or https:// address without ?query, as in http://localhost:11434',
    },
  );

const modelName = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{1,200}$/, 'must be a model name without spaces, as in qwen2.5:3b');

/** The language-model settings, checked together. */
function llmConfig(env: Env): LlmConfig | { problem: string } {
  const openAiHost = new URL(env.OPENAI_BASE_URL).hostname;
  if (env.LLM_PROVIDER === 'openai' && openAiHost === 'api.openai.com' && !env.OPENAI_API_KEY) {
    return { problem: 'OPENAI_API_KEY is needed with LLM_PROVIDER=openai at api.openai.com' };
  }
  return {
    provider: env.LLM_PROVIDER,
    ollama: Object.freeze({ baseUrl: env.OLLAMA_BASE_URL, model: env.OLLAMA_MODEL }),
    openai: Object.freeze({
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.OPENAI_MODEL,
    }),
    timeoutMs: env.LLM_TIMEOUT * 1000,
    historyMessages: env.LLM_HISTORY_MESSAGES,
    maxTokens: env.LLM_MAX_TOKENS,
    ragPassages: env.LLM_RAG_PASSAGES,
    breakerFailures: env.LLM_BREAKER_FAILURES,
    breakerCooldownMs: env.LLM_BREAKER_COOLDOWN * 1000,
    fallback: env.LLM_FALLBACK,
    webSearchUrl: env.WEB_SEARCH_URL,
    knowledgeDir: env.KNOWLEDGE_DIR,
  };
}

const envSchema = z.object({
  USE_REDIS: boolean.default(false),
  REDIS_URL: z.string().trim().optional(),
  REDIS_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]+$|^\[[0-9A-Fa-f:.]+\]$/, 'must be a host name or an IP address')
    .default('localhost'),
  REDIS_PORT: wholeNumber(1, 65535).default(6379),
  REDIS_DB: wholeNumber(0, 2147483647).default(0),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_USERNAME: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 printable characters without spaces')
    .optional(),
  REDIS_CLUSTER_NODES: nodeList.optional(),
  REDIS_SENTINELS: nodeList.optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .default('mymaster'),
  REDIS_TLS_CA: readableFile.optional(),
  REDIS_TLS_CERT: readableFile.optional(),
  REDIS_TLS_KEY: readableFile.optional(),
  REDIS_CONNECT_TIMEOUT_MS: wholeNumber(1, 60000).default(2000),
  REDIS_COMMAND_TIMEOUT_MS: wholeNumber(1, 60000).default(500),
  SESSION_TTL: wholeNumber(1, 31536000).default(3600),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters without spaces')
    .default('cql:session:'),
  LOG_LEVEL: logLevel.default('info'),
  MAX_ATTEMPTS: wholeNumber(1, 10).default(3),
  MEMORY_MAX_SESSIONS: wholeNumber(1, 10000000).default(10000),
  SESSION_MAX_BYTES: wholeNumber(1024, 536870912).default(262144),
  MAX_HISTORY_MESSAGES: wholeNumber(2, 10000).default(100),
  MEMORY_SNAPSHOT_PATH: z.string().trim().optional(),
  MEMORY_SNAPSHOT_INTERVAL: wholeNumber(0, 86400).default(60),
  SESSION_ENCRYPTION_KEY: encryptionKey.optional(),
  SESSION_ENCRYPTION_KEYS: z
    .string()
    .transform((v) => v.split(',').map((key) => key.trim()))
    .pipe(z.array(encryptionKey).min(1))
    .optional(),
  HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._:-]+$/, 'must be a host name or an IP address')
    .default('0.0.0.0'),
  PORT: wholeNumber(0, 65535).default(5000),
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  CORS_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .refine((origins) => origins.every((o) => o === '*' || /^https?:\/\/[^\s/]+$/.test(o)), {
      message: 'must be a comma list of origins like http://localhost:5173',
    })
    .default(['http://localhost:5173']),
  RATE_LIMIT_PER_MINUTE: wholeNumber(0, 1000000).default(60),
  TRUST_PROXY: boolean.default(false),
  LLM_PROVIDER: z.enum(LLM_PROVIDERS, 'must be offline, ollama or openai').default('offline'),
  OLLAMA_BASE_URL: httpUrl.default('http://localhost:11434'),
  OLLAMA_MODEL: modelName.default('qwen2.5:3b'),
  OPENAI_BASE_URL: httpUrl.default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,1000}$/, 'must be printable characters without spaces')
    .optional(),
  OPENAI_MODEL: modelName.default('gpt-4o-mini'),
  LLM_TIMEOUT: wholeNumber(1, 3600).default(60),
  LLM_HISTORY_MESSAGES: wholeNumber(0, 1000).default(12),
  LLM_MAX_TOKENS: wholeNumber(16, 32768).default(1024),
  LLM_RAG_PASSAGES: wholeNumber(1, 20).default(3),
  LLM_BREAKER_FAILURES: wholeNumber(0, 1000).default(5),
  LLM_BREAKER_COOLDOWN: wholeNumber(1, 86400).default(30),
  LLM_FALLBACK: z.enum(['none', 'offline'], 'must be none or offline').default('none'),
  WEB_SEARCH_URL: httpUrl.optional(),
  KNOWLEDGE_DIR: z.string().trim().optional(),
});

type Env = z.output<typeof envSchema>;
type Variable = keyof Env;

function parseRedisUrl(raw: string): { url: URL } | { problem: string } {
  const invalid = `REDIS_URL must look like redis://[user:password@]host[:port][/db] or rediss://... (received ${shown('REDIS_URL', raw)})`;
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
    return {
      problem: `REDIS_URL takes no ?query or #fragment (received ${shown('REDIS_URL', raw)})`,
    };
  }
  if (!/^(\/\d{0,10})?$/.test(url.pathname) || Number(url.pathname.slice(1)) > 2147483647) {
    return {
      problem: `REDIS_URL database must be a whole number, as in redis://host:6379/0 (received ${shown('REDIS_URL', raw)})`,
    };
  }
  return { url };
}

function redisConnection(env: Env): RedisConnectionConfig | { problem: string } {
  let url: URL;
  const tlsFiles = { ca: env.REDIS_TLS_CA, cert: env.REDIS_TLS_CERT, key: env.REDIS_TLS_KEY };
  const wantsTls = Object.values(tlsFiles).some((file) => file !== undefined);
  if (env.REDIS_URL) {
    const parsed = parseRedisUrl(env.REDIS_URL);
    if ('problem' in parsed) return parsed;
    url = parsed.url;
    if (wantsTls && url.protocol !== 'rediss:') {
      return {
        problem: `REDIS_TLS_CA, REDIS_TLS_CERT and REDIS_TLS_KEY need a rediss:// REDIS_URL; a redis:// URL would connect in plain text (received ${shown('REDIS_URL', env.REDIS_URL)})`,
      };
    }
  } else {
    const scheme = wantsTls ? 'rediss' : 'redis';
    url = new URL(`${scheme}://${env.REDIS_HOST}:${env.REDIS_PORT}/${env.REDIS_DB}`);
  }
  if ((tlsFiles.cert === undefined) !== (tlsFiles.key === undefined)) {
    return { problem: 'REDIS_TLS_CERT and REDIS_TLS_KEY go together: set both or neither' };
  }
  // REDIS_USERNAME and REDIS_PASSWORD complete a URL that carries none.
  if (url.username === '' && env.REDIS_USERNAME) url.username = env.REDIS_USERNAME;
  if (url.password === '' && env.REDIS_PASSWORD) url.password = env.REDIS_PASSWORD;

  const clusterNodes = env.REDIS_CLUSTER_NODES ?? [];
  const sentinelNodes = env.REDIS_SENTINELS;
  if (clusterNodes.length > 0 && sentinelNodes) {
    return { problem: 'REDIS_CLUSTER_NODES and REDIS_SENTINELS cannot both be set: choose one' };
  }
  const database = Number(url.pathname.slice(1) || 0);
  if (clusterNodes.length > 0 && database !== 0) {
    return { problem: `a Redis Cluster has only database 0 (the URL asks for ${database})` };
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

export interface LoadConfigOptions {
  /** Variables to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** A `.env` file read under `env` (the environment wins). @default "<cwd>/.env" if it exists */
  envFile?: string | false;
}

function readEnvFile(path: string | false | undefined): Record<string, string | undefined> {
  if (path === false) return {};
  const file = path ?? resolve(process.cwd(), '.env');
  if (path === undefined && !existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([
      `cannot read the environment file ${file}: ${(error as Error).message}`,
    ]);
  }
}

/** Reads and validates the configuration once; throws a ConfigError listing every bad value. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const merged: Record<string, string | undefined> = {
    ...readEnvFile(options.envFile),
    ...(options.env ?? process.env),
  };
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = merged[key];
    // An empty value (`REDIS_PASSWORD=` in a .env file) means "not set".
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }

  const result = envSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = String(issue.path[0]) as Variable;
      return `${variable} ${issue.message} (received ${shown(variable, input[variable] ?? '')})`;
    });
    throw new ConfigError(problems);
  }
  const env = result.data;
  const redis = redisConnection(env);
  if ('problem' in redis) throw new ConfigError([redis.problem]);
  if (env.SESSION_ENCRYPTION_KEY && env.SESSION_ENCRYPTION_KEYS) {
    throw new ConfigError([
      'SESSION_ENCRYPTION_KEY and SESSION_ENCRYPTION_KEYS cannot both be set: during a rotation, list every key in SESSION_ENCRYPTION_KEYS, the new one first',
    ]);
  }

  const llm = llmConfig(env);
  if ('problem' in llm) throw new ConfigError([llm.problem]);

  const config: Config = {
    useRedis: env.USE_REDIS,
    redis: Object.freeze(redis),
    sessionTtl: env.SESSION_TTL,
    keyPrefix: env.REDIS_KEY_PREFIX,
    logLevel: env.LOG_LEVEL,
    maxAttempts: env.MAX_ATTEMPTS,
    memoryMaxSessions: env.MEMORY_MAX_SESSIONS,
    sessionMaxBytes: env.SESSION_MAX_BYTES,
    maxHistoryMessages: env.MAX_HISTORY_MESSAGES,
    memorySnapshotPath: env.MEMORY_SNAPSHOT_PATH,
    memorySnapshotIntervalSeconds: env.MEMORY_SNAPSHOT_INTERVAL,
    encryptionKeys: Object.freeze(
      (
        env.SESSION_ENCRYPTION_KEYS ??
        (env.SESSION_ENCRYPTION_KEY ? [env.SESSION_ENCRYPTION_KEY] : [])
      ).map((key) => Object.freeze(key)),
    ),
    api: Object.freeze({
      host: env.HOST,
      port: env.PORT,
      adminApiKey: env.ADMIN_API_KEY,
      corsOrigins: Object.freeze(env.CORS_ORIGINS),
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
    }),
    llm: Object.freeze(llm),
    toJSON() {
      const { url: _secret, ...redis } = this.redis;
      const api = { ...this.api, adminApiKey: this.api.adminApiKey && '***' };
      const encryptionKeys = this.encryptionKeys.map((key) => ({ id: key.id, key: '***' }));
      const llm = {
        ...this.llm,
        ollama: { ...this.llm.ollama, baseUrl: redactUrl(this.llm.ollama.baseUrl) },
        openai: {
          ...this.llm.openai,
          baseUrl: redactUrl(this.llm.openai.baseUrl),
          apiKey: this.llm.openai.apiKey && '***',
        },
        webSearchUrl: this.llm.webSearchUrl && redactUrl(this.llm.webSearchUrl),
      };
      return { ...this, redis, encryptionKeys, api, llm };
    },
    toString() {
      return JSON.stringify(this);
    },
    // console.log() and util.inspect() show the same redacted view.
    [inspect.custom]() {
      // Plain data: toJSON()'s copy still carries this method, and inspect would call it again.
      return JSON.parse(this.toString()) as object;
    },
  };
  return Object.freeze(config);
}
