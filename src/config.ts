/**
 * Environment (and an optional `.env` file) -> one frozen, validated Config.
 * Every bad value stops start-up with a message naming the variable and the value received;
 * secrets are shown as `***` in messages and in `toString()`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';

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
  readonly api: ApiConfig;
  /** The configuration with secrets shown as `***` (also what JSON.stringify and loggers see). */
  toString(): string;
  toJSON(): object;
}

export class ConfigError extends Error {
  readonly code = 'ERR_INVALID_CONFIG';
  override name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SECRET_VARIABLES = new Set(['REDIS_PASSWORD', 'ADMIN_API_KEY']);

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

const LOG_LEVEL_ALIASES: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal' };

const logLevel = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => LOG_LEVEL_ALIASES[v] ?? v)
  .refine((v): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v), {
    message: 'must be one of trace, debug, info, warning, error, critical, silent',
  });

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
  if (env.REDIS_URL) {
    const parsed = parseRedisUrl(env.REDIS_URL);
    if ('problem' in parsed) return parsed;
    url = parsed.url;
  } else {
    url = new URL(`redis://${env.REDIS_HOST}:${env.REDIS_PORT}/${env.REDIS_DB}`);
  }
  // REDIS_PASSWORD completes a URL that carries none (e.g. REDIS_URL=redis://redis:6379/0).
  if (url.password === '' && env.REDIS_PASSWORD) url.password = env.REDIS_PASSWORD;
  return {
    url: url.href,
    redactedUrl: redactRedisUrl(url.href),
    connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
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
    api: Object.freeze({
      host: env.HOST,
      port: env.PORT,
      adminApiKey: env.ADMIN_API_KEY,
      corsOrigins: Object.freeze(env.CORS_ORIGINS),
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
    }),
    toJSON() {
      const { url: _secret, ...redis } = this.redis;
      const api = { ...this.api, adminApiKey: this.api.adminApiKey && '***' };
      return { ...this, redis, api };
    },
    toString() {
      return JSON.stringify(this);
    },
  };
  return Object.freeze(config);
}
