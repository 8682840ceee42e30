/**
 * The kinds of value the environment holds (numbers, booleans, lists, files, keys, addresses),
 * as zod schemas whose messages name the rule (src/texts/config.ts); and how a received value
 * is shown in a message.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { redactRedisUrl, redactUrl } from '../redact.js';
import { RULES } from '../texts/config.js';

/** Variables whose values are never shown, only `***`. */
export const SECRET_VARIABLES = new Set([
  'REDIS_PASSWORD',
  'ADMIN_API_KEY',
  'METRICS_API_KEY',
  'OPENAI_COMPAT_API_KEYS',
  'SESSION_ENCRYPTION_KEY',
  'SESSION_ENCRYPTION_KEYS',
  'OPENAI_API_KEY',
]);

/** A received value as a message shows it: secrets hidden, addresses without credentials. */
export function shown(variable: string, value: string): string {
  if (SECRET_VARIABLES.has(variable)) return '"***"';
  if (variable === 'REDIS_URL') return JSON.stringify(redactRedisUrl(value));
  if (variable.endsWith('_BASE_URL') || variable === 'WEB_SEARCH_URL')
    return JSON.stringify(redactUrl(value));
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, RULES.wholeNumber(min, max))
    .transform(Number)
    .refine((n) => n >= min && n <= max, RULES.wholeNumber(min, max));

export const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: RULES.oneOf(['true', 'false']),
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** A comma list, each item trimmed, empty items dropped. */
export const commaList = z.string().transform((v) =>
  v
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const NODE = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** "host:port,host:port" -> nodes. */
export const nodeList = commaList
  .refine(
    (nodes) =>
      nodes.length > 0 &&
      nodes.every((node) => {
        const port = Number(NODE.exec(node)?.[2] ?? 0);
        return port >= 1 && port <= 65535;
      }),
    { message: RULES.nodeList },
  )
  .transform((nodes): HostPort[] =>
    nodes.map((node) => {
      const [, host = '', port = '0'] = NODE.exec(node) ?? [];
      return { host: host.replace(/^\[|\]$/g, ''), port: Number(port) };
    }),
  );

export const readableFile = z
  .string()
  .trim()
  .refine((path) => existsSync(path), { message: RULES.existingFile });

export interface EncryptionKey {
  /** Short public name of the key, written beside each value it encrypts (a hash of the key). */
  readonly id: string;
  /** 32 bytes (AES-256). */
  readonly key: Buffer;
}

/** Base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`). */
export const encryptionKey = z
  .string()
  .trim()
  .refine((v) => /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32, {
    message: RULES.encryptionKey,
  })
  .transform((v): EncryptionKey => {
    const key = Buffer.from(v, 'base64');
    return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
  });

/** A key clients present: long enough not to be guessed, printable, no spaces. */
export const apiKey = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{16,512}$/, RULES.printable(16, 512));

/** An http(s) address without query or fragment (a path is allowed: http://host/v1). */
export const httpUrl = z
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
    { message: RULES.httpUrl },
  );
