/** Session ids are validated here, before any store sees them: no pattern, path or control
 * character can reach a Redis key or a SCAN pattern. */
import { InvalidSessionIdError } from './errors.js';

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}

export function assertSessionId(value: unknown): asserts value is string {
  if (!isValidSessionId(value)) throw new InvalidSessionIdError(value);
}
