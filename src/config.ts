/**
 * Environment (and an optional `.env` file) -> one frozen, validated Config. Each concern
 * declares its variables in src/config/ (redis, llm, http); the session settings are here.
 * Every bad value stops start-up with a message naming the variable and the value received;
 * secrets are shown as `***` in messages and in `toString()`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect, parseEnv } from 'node:util';
import { z } from 'zod';
import { DEFAULTS } from './config/defaults.js';
import { type ApiConfig, apiConfig, httpVariables } from './config/http.js';
import { type LlmConfig, llmConfig, llmVariables } from './config/llm.js';
import { type RedisConnectionConfig, redisConnection, redisVariables } from './config/redis.js';
import { boolean, type EncryptionKey, encryptionKey, shown, wholeNumber } from './config/values.js';
import { redactUrl } from './redact.js';
import { SESSION_ACCESS_MODES, type SessionAccess } from './sessions/access.js';
import { badValue, CONFIG_ERROR_TITLE, PROBLEMS, RULES } from './texts/config.js';

export {
  type ApiConfig,
  DEFAULT_ADMIN_API_KEY_FILE,
  DEFAULT_CORS_ORIGINS,
  type TrustProxy,
} from './config/http.js';
export { LLM_PROVIDERS, type LlmConfig, type LlmProvider } from './config/llm.js';
export type { RedisConnectionConfig, RedisNode } from './config/redis.js';
export type { EncryptionKey } from './config/values.js';
export { redactRedisUrl } from './redact.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The longest SESSION_TTL accepted: one year. */
export const MAX_SESSION_TTL_SECONDS = 31536000;

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
  /** SESSION_ACCESS: "token", every request on a session presents its token; "id", the id is
   * enough (for clients that cannot hold a token). @default "token" */
  readonly sessionAccess: SessionAccess;
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
    super(`${CONFIG_ERROR_TITLE}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVEL_ALIASES: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal' };

/** The names LOG_LEVEL is documented with (pino's, or the original's warning and critical). */
const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'silent'];

const logLevel = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => LOG_LEVEL_ALIASES[v] ?? v)
  .refine((v): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v), {
    message: RULES.oneOfList(LOG_LEVEL_NAMES),
  });

/** The session settings: where sessions live, how long, how large, who may read them. */
const sessionVariables = {
  USE_REDIS: boolean.default(false),
  SESSION_TTL: wholeNumber(1, MAX_SESSION_TTL_SECONDS).default(DEFAULTS.sessionTtlSeconds),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/, RULES.printable(1, 64))
    .default(DEFAULTS.keyPrefix),
  LOG_LEVEL: logLevel.default('info'),
  MAX_ATTEMPTS: wholeNumber(1, 10).default(DEFAULTS.maxAttempts),
  MEMORY_MAX_SESSIONS: wholeNumber(1, 10000000).default(DEFAULTS.memoryMaxSessions),
  SESSION_MAX_BYTES: wholeNumber(1024, 536870912).default(DEFAULTS.sessionMaxBytes),
  MAX_HISTORY_MESSAGES: wholeNumber(2, 10000).default(DEFAULTS.maxHistoryMessages),
  MEMORY_SNAPSHOT_PATH: z.string().trim().optional(),
  MEMORY_SNAPSHOT_INTERVAL: wholeNumber(0, 86400).default(60),
  SESSION_ENCRYPTION_KEY: encryptionKey.optional(),
  SESSION_ENCRYPTION_KEYS: z
    .string()
    .transform((v) => v.split(',').map((key) => key.trim()))
    .pipe(z.array(encryptionKey).min(1, RULES.encryptionKeyList))
    .optional(),
  SESSION_ACCESS: z
    .enum(SESSION_ACCESS_MODES, RULES.oneOf(SESSION_ACCESS_MODES))
    .default('token' satisfies SessionAccess),
};

/** Every variable the configuration reads. */
export const envSchema = z.object({
  ...sessionVariables,
  ...redisVariables,
  ...httpVariables,
  ...llmVariables,
});

type Variable = keyof z.output<typeof envSchema>;

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
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError([PROBLEMS.envFileUnreadable(file, code, message)]);
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

  // Every schema names its rule; a check that does not still reads in Portuguese.
  const result = envSchema.safeParse(input, { error: () => RULES.invalid });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = String(issue.path[0]) as Variable;
      return badValue(variable, issue.message, shown(variable, input[variable] ?? ''));
    });
    throw new ConfigError(problems);
  }
  const env = result.data;
  const redis = redisConnection(env);
  if ('problem' in redis) throw new ConfigError([redis.problem]);
  if (env.SESSION_ENCRYPTION_KEY && env.SESSION_ENCRYPTION_KEYS) {
    throw new ConfigError([PROBLEMS.encryptionKeyAndKeys]);
  }
  const llm = llmConfig(env);
  if ('problem' in llm) throw new ConfigError([llm.problem]);
  const api = apiConfig(env);
  if ('problem' in api) throw new ConfigError([api.problem]);

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
    sessionAccess: env.SESSION_ACCESS,
    api: Object.freeze(api),
    llm: Object.freeze(llm),
    toJSON() {
      const { url: _secret, ...redis } = this.redis;
      const hidden = (value: string | undefined) => value && '***';
      const api = {
        ...this.api,
        adminApiKey: hidden(this.api.adminApiKey),
        metricsApiKey: hidden(this.api.metricsApiKey),
        openaiCompatApiKeys: this.api.openaiCompatApiKeys.map(() => '***'),
      };
      const encryptionKeys = this.encryptionKeys.map((key) => ({ id: key.id, key: '***' }));
      const llm = {
        ...this.llm,
        ollama: { ...this.llm.ollama, baseUrl: redactUrl(this.llm.ollama.baseUrl) },
        openai: {
          ...this.llm.openai,
          baseUrl: redactUrl(this.llm.openai.baseUrl),
          apiKey: hidden(this.llm.openai.apiKey),
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
