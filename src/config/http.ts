/** The HTTP API: where it listens, who may call what (keys, browser origins, proxies), and how
 * long a client may take to send a request. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { PROBLEMS, RULES } from '../texts/config.js';
import { apiKey, commaList, wholeNumber } from './values.js';

/** Where the original web app runs in development (Vite on 5173, or 5001 as in its README). */
export const DEFAULT_CORS_ORIGINS = Object.freeze([
  'http://localhost:5173',
  'http://127.0.0.1:5173',
  'http://localhost:5001',
  'http://127.0.0.1:5001',
]);

/** Where the generated admin key is kept when ADMIN_API_KEY is not set (a git-ignored folder). */
export const DEFAULT_ADMIN_API_KEY_FILE = '.state/admin-api-key';

/**
 * Which hops in front of the service are trusted to say who the client is (X-Forwarded-For):
 * false (none: the client is whoever connects), or the proxies' addresses and CIDRs (and the
 * names loopback, linklocal, uniquelocal), as Fastify's `trustProxy` takes them. Not `true`
 * (any client could claim any address) and not a hop count: a hop count cannot tell the proxy
 * from a client that connects directly, and Fastify 5 trusts nothing for one.
 */
export type TrustProxy = false | readonly string[];

export interface ApiConfig {
  /** HOST. @default "0.0.0.0" */
  readonly host: string;
  /** PORT. @default 5000 */
  readonly port: number;
  /** ADMIN_API_KEY: admin routes need `Authorization: Bearer <key>`. Unset: the server makes
   * one at start-up and keeps it in `adminApiKeyFile`. */
  readonly adminApiKey: string | undefined;
  /** ADMIN_API_KEY_FILE. @default ".state/admin-api-key" (relative to the working directory) */
  readonly adminApiKeyFile: string;
  /** METRICS_API_KEY: /metrics then needs `Authorization: Bearer` with it (or the admin key).
   * @default none: /metrics is public */
  readonly metricsApiKey: string | undefined;
  /** OPENAI_COMPAT_API_KEYS: keys of the OpenAI-compatible endpoint (/v1); empty turns it off.
   * @default [] */
  readonly openaiCompatApiKeys: readonly string[];
  /** CORS_ORIGINS, a comma list. @default localhost and 127.0.0.1 on ports 5173 and 5001 */
  readonly corsOrigins: readonly string[];
  /** RATE_LIMIT_PER_MINUTE per client address on the chat routes; 0 turns it off. @default 60 */
  readonly rateLimitPerMinute: number;
  /** TRUST_PROXY. @default false */
  readonly trustProxy: TrustProxy;
  /** HTTP_HEADERS_TIMEOUT_MS: a client must send its request headers within this. @default 10000 */
  readonly headersTimeoutMs: number;
  /** HTTP_BODY_TIMEOUT_MS: ... and its whole request within this. @default 30000 */
  readonly bodyTimeoutMs: number;
  /** HTTP_MAX_CONNECTIONS_PER_IP: open connections one client address may hold. @default 64 */
  readonly maxConnectionsPerIp: number;
}

const TRUST_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix, or one of proxy-addr's names. */
function trustedHop(item: string): boolean {
  if (TRUST_NAMES.has(item)) return true;
  const [address = '', prefix, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

const trustProxy = z
  .string()
  .trim()
  .transform((v, context): TrustProxy => {
    const lower = v.toLowerCase();
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    const hops = v
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    if (hops.length > 0 && hops.every(trustedHop)) return Object.freeze(hops);
    context.addIssue({ code: 'custom', message: RULES.trustProxy });
    return z.NEVER;
  });

export const httpVariables = {
  HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._:-]+$/, RULES.hostName)
    .default('0.0.0.0'),
  PORT: wholeNumber(0, 65535).default(5000),
  ADMIN_API_KEY: z.string().min(16, RULES.atLeastCharacters(16)).optional(),
  ADMIN_API_KEY_FILE: z.string().trim().min(1, RULES.filePath).default(DEFAULT_ADMIN_API_KEY_FILE),
  METRICS_API_KEY: apiKey.optional(),
  OPENAI_COMPAT_API_KEYS: commaList
    .pipe(z.array(apiKey))
    .optional()
    .transform((keys) => Object.freeze(keys ?? [])),
  CORS_ORIGINS: commaList
    .refine((origins) => origins.every((o) => o === '*' || /^https?:\/\/[^\s/]+$/.test(o)), {
      message: RULES.corsOrigins,
    })
    .default([...DEFAULT_CORS_ORIGINS]),
  RATE_LIMIT_PER_MINUTE: wholeNumber(0, 1000000).default(60),
  TRUST_PROXY: trustProxy.default(false),
  HTTP_HEADERS_TIMEOUT_MS: wholeNumber(1000, 600000).default(10000),
  HTTP_BODY_TIMEOUT_MS: wholeNumber(1000, 600000).default(30000),
  HTTP_MAX_CONNECTIONS_PER_IP: wholeNumber(1, 100000).default(64),
};

type HttpEnv = z.output<z.ZodObject<typeof httpVariables>>;

export function apiConfig(env: HttpEnv): ApiConfig | { problem: string } {
  if (env.HTTP_BODY_TIMEOUT_MS < env.HTTP_HEADERS_TIMEOUT_MS) {
    return {
      problem: PROBLEMS.bodyTimeoutShorterThanHeaders(
        env.HTTP_BODY_TIMEOUT_MS,
        env.HTTP_HEADERS_TIMEOUT_MS,
      ),
    };
  }
  return {
    host: env.HOST,
    port: env.PORT,
    adminApiKey: env.ADMIN_API_KEY,
    adminApiKeyFile: env.ADMIN_API_KEY_FILE,
    metricsApiKey: env.METRICS_API_KEY,
    openaiCompatApiKeys: env.OPENAI_COMPAT_API_KEYS,
    corsOrigins: Object.freeze(env.CORS_ORIGINS),
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    trustProxy: env.TRUST_PROXY,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: env.HTTP_BODY_TIMEOUT_MS,
    maxConnectionsPerIp: env.HTTP_MAX_CONNECTIONS_PER_IP,
  };
}
