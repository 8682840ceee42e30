/**
 * Guard for admin routes. With ADMIN_API_KEY set they need `Authorization: Bearer <key>`
 * (compared in constant time); without it they answer only clients on loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AccessDeniedError } from './errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

// Digests have one length, so the comparison takes the same time whatever the key's length.
const digest = (text: string) => createHash('sha256').update(text).digest();

export function adminGuard(adminApiKey: string | undefined) {
  const expected = adminApiKey === undefined ? undefined : digest(adminApiKey);
  return async (request: FastifyRequest): Promise<void> => {
    if (expected === undefined) {
      if (!LOOPBACK.has(request.ip)) {
        throw new AccessDeniedError(
          403,
          'Admin routes answer only local clients while ADMIN_API_KEY is not set.',
        );
      }
      return;
    }
    const token = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !timingSafeEqual(digest(token), expected)) {
      throw new AccessDeniedError(
        401,
        'Admin routes need the header Authorization: Bearer <ADMIN_API_KEY>.',
      );
    }
  };
}
