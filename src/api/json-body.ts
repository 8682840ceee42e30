/**
 * The JSON body parser: Fastify's own reports every failure as one generic error, so a client
 * could not tell a syntax error from a refused key. This one says which: where the syntax
 * breaks, or which key (`__proto__`, `constructor`) is not allowed.
 */
import type { FastifyInstance } from 'fastify';

/** Keys that could reach an object's prototype if a body were ever merged into one. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/** Only a text that mentions one of them, or escapes characters (a key may be spelled with
 * \u escapes), is parsed with the slower key check. */
const MAY_HOLD_FORBIDDEN_KEY = /__proto__|constructor|\\u/;

export class MalformedJsonError extends Error {
  override name = 'MalformedJsonError';

  /** `position`: where the syntax breaks (characters from the start), when known. */
  constructor(readonly position: number | undefined) {
    super(`malformed JSON body${position === undefined ? '' : ` at position ${position}`}`);
  }
}

export class EmptyJsonBodyError extends Error {
  override name = 'EmptyJsonBodyError';

  constructor() {
    super('empty JSON body');
  }
}

export class ForbiddenKeyError extends Error {
  override name = 'ForbiddenKeyError';

  constructor(readonly key: string) {
    super(`JSON body holds the forbidden key ${key}`);
  }
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new EmptyJsonBodyError();
  const checked = MAY_HOLD_FORBIDDEN_KEY.test(text);
  try {
    return checked
      ? JSON.parse(text, (key, value) => {
          if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyError(key);
          return value;
        })
      : JSON.parse(text);
  } catch (error) {
    if (error instanceof ForbiddenKeyError) throw error;
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new MalformedJsonError(position === undefined ? undefined : Number(position));
  }
}

/** Replaces Fastify's JSON parser for `application/json` bodies (the body limit still applies). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
