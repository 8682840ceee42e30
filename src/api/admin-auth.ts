/**
 * Guards for keyed routes. Admin routes need `Authorization: Bearer <admin key>` and nothing
 * else grants them: no client address (a reverse proxy on the same host makes every client
 * loopback), no X-Forwarded-For, Forwarded or Host. Keys are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors } from '../texts/api.js';
import { AccessDeniedError } from './errors.js';

// Digests have one length, so the comparison takes the same time whatever the key's length.
const digest = (text: string) => createHash('sha256').update(text).digest();

/** The key of an `Authorization: Bearer <key>` header, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** Whether `presented` is one of `keys`; every key is compared, whichever matches. */
export function keyMatches(presented: string | undefined, keys: readonly Buffer[]): boolean {
  if (presented === undefined) return false;
  const given = digest(presented);
  let found = false;
  for (const key of keys) found = timingSafeEqual(given, key) || found;
  return found;
}

/** An onRequest hook that lets through requests bearing one of `keys`; 401 for the others. */
export function keyGuard(keys: readonly string[], refusal: string) {
  const expected = keys.map(digest);
  return async (request: FastifyRequest): Promise<void> => {
    if (!keyMatches(bearerToken(request), expected)) throw new AccessDeniedError(401, refusal);
  };
}

export function adminGuard(adminKey: string) {
  return keyGuard([adminKey], errors.adminKeyRequired);
}
