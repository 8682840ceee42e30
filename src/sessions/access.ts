/**
 * Session tokens: who may continue, read or reset a conversation. A session created by a chat
 * request gets a random token that is returned to its client once; only the token's SHA-256 is
 * stored with the session, so neither a store dump nor an export holds a usable token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * - `token` (default): every request on an existing session must present its token;
 * - `id`: tokens are issued but not required, for clients that cannot hold one (the original web
 *   app and Open WebUI pipe); anyone who knows or guesses an id continues that conversation.
 */
export const SESSION_ACCESS_MODES = ['token', 'id'] as const;
export type SessionAccess = (typeof SESSION_ACCESS_MODES)[number];

/** 256 random bits, URL-safe (43 characters). */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenSha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether `token` is the one whose hash is stored; compared in constant time. */
export function tokenMatches(token: string | undefined, storedSha256: string): boolean {
  if (token === undefined || token === '') return false;
  const presented = createHash('sha256').update(token).digest();
  const stored = Buffer.from(storedSha256, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/**
 * Whether a request presenting `token` may act on a session stored with `storedSha256`:
 * sessions without a token hash (written before tokens, or imported so) are reachable by id.
 */
export function mayAccess(
  mode: SessionAccess,
  storedSha256: string | null,
  token: string | undefined,
): boolean {
  return mode === 'id' || storedSha256 === null || tokenMatches(token, storedSha256);
}
