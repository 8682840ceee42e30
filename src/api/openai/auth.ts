/**
 * Who calls the OpenAI-compatible endpoint: `Authorization: Bearer` with one of
 * OPENAI_COMPAT_API_KEYS. Which key matched matters, since each key has its own conversations;
 * every key is compared, in constant time, whichever matches.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { openaiErrors } from '../../texts/openai.js';
import { bearerToken } from '../admin-auth.js';
import { OpenAiError } from './errors.js';

// Digests have one length, so a comparison takes the same time whatever the key's length.
const digest = (text: string) => createHash('sha256').update(text).digest();

export interface KeyRing {
  /** The configured key the request presents; throws OpenAiError 401 when there is none. */
  keyOf(request: FastifyRequest): string;
}

export function keyRing(keys: readonly string[]): KeyRing {
  const known = keys.map((key) => ({ key, digest: digest(key) }));
  return {
    keyOf(request) {
      const presented = bearerToken(request);
      const given = presented === undefined ? undefined : digest(presented);
      let found: string | undefined;
      for (const { key, digest: expected } of known) {
        const same = given !== undefined && timingSafeEqual(given, expected);
        found = same ? key : found;
      }
      if (found === undefined) {
        throw new OpenAiError(401, openaiErrors.apiKeyRequired, {
          code: 'invalid_api_key',
          headers: { 'www-authenticate': 'Bearer' },
        });
      }
      return found;
    },
  };
}
