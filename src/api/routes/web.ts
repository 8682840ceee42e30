/**
 * Serves the built web app (dist/web, from `npm run build:web`): the chat at `/` for browsers
 * (JSON clients keep the service description), the operator's console at `/console`, and the
 * hashed assets (@fastify/static: ETags, 304s, and the .gz the build writes beside each text
 * file for clients that accept gzip).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { negotiate } from '@fastify/accept-negotiator';
import type {} from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { service } from '../../texts/api.js';
import { html as pageTexts } from '../../texts/web.js';

/** dist/web of this package, from src/api/routes (tsx) and from dist/api/routes alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

export interface WebRoutesOptions {
  /** Folder of the built app. @default DEFAULT_WEB_ROOT */
  root?: string;
}

/**
 * The pages' own policy: everything from this origin, nothing inline, no frames. Without
 * `upgrade-insecure-requests` (helmet's default has it): on plain HTTP, a phone opening
 * http://192.168.x.x:5000 would be told to fetch the scripts over HTTPS, which is not there; the
 * pages only ever load relative URLs, so over HTTPS there is nothing for it to upgrade either.
 */
export const APP_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'none'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'"],
  manifestSrc: ["'self'"],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  workerSrc: ["'none'"],
};

const PAGE_HELMET = {
  contentSecurityPolicy: { useDefaults: false, directives: APP_CSP_DIRECTIVES },
};

/** Pages are checked at every visit (a new build changes the assets they name). */
const REVALIDATE = 'no-cache';
/** Hashed file names never change content. */
const ASSETS_MAX_AGE_MS = 365 * 24 * 3600 * 1000;
/** Files outside assets/ (the icon) keep their name across builds. */
const OTHER_MAX_AGE_MS = 24 * 3600 * 1000;

/** The build's files outside assets/ that are served: the icon. */
const PUBLIC_FILES = ['favicon.svg'];

/** A browser navigating here (text/html preferred to JSON); API clients and curl get JSON. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return negotiate(accept, ['application/json', 'text/html']) === 'text/html';
}

function notBuiltPage(): Buffer {
  return Buffer.from(
    `<!doctype html><html lang="pt-BR"><meta charset="utf-8"><title>${pageTexts.chatTitle}</title><p>${pageTexts.notBuilt}</p></html>`,
  );
}

const serviceDescription = z.object({ message: z.string(), docs: z.string() });

export const webRoutes: FastifyPluginAsyncZod<WebRoutesOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  const built = existsSync(join(root, 'index.html'));
  if (!built) {
    app.log.warn(
      { root, event_type: 'web_app_missing' },
      'Web app not built (npm run build:web): browsers get a notice at / and /console',
    );
  }
  // The hashed assets, immutable; a build writes a .gz beside each text file, sent to clients
  // that accept gzip. The plugin gives replies sendFile() for the pages below.
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: ASSETS_MAX_AGE_MS,
    preCompressed: true,
    index: false,
    dotfiles: 'deny',
  });

  const page =
    (name: string) =>
    (_request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> => {
      if (!built) {
        return reply
          .code(503)
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(notBuiltPage());
      }
      reply.header('cache-control', REVALIDATE);
      return reply.sendFile(name, root, { cacheControl: false });
    };
  const chatPage = page('index.html');

  app.get(
    '/',
    {
      helmet: PAGE_HELMET,
      schema: {
        summary: 'Service description; browsers (Accept: text/html) get the chat web app',
        tags: ['service'],
        response: { 200: serviceDescription },
      },
    },
    async (request, reply) => {
      reply.header('vary', 'Accept');
      if (prefersHtml(request.headers.accept)) return chatPage(request, reply);
      return { message: service.description, docs: '/docs' };
    },
  );

  app.get(
    '/console',
    { helmet: PAGE_HELMET, schema: { summary: 'Operator console (web app)', tags: ['service'] } },
    page('console.html'),
  );

  for (const name of PUBLIC_FILES) {
    app.get(`/${name}`, { schema: { hide: true } }, (_request, reply) =>
      reply.sendFile(name, root, { maxAge: OTHER_MAX_AGE_MS, immutable: false }),
    );
  }
};
