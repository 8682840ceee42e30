/** The plugin that serves the web app: `/` by content negotiation, `/console`, hashed assets with
 * long caching, the pages' own Content-Security-Policy, and a clear page when nothing was built. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { DEFAULT_WEB_ROOT, prefersHtml, webRoutes } from '../src/api/routes/web.js';
import { service } from '../src/texts/api.js';
import { html } from '../src/texts/web.js';

/** The request headers a response's Vary names, in lower case. */
const varyOf = (headers: Record<string, unknown>) =>
  String(headers.vary ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});`;

/** A Fastify instance as buildServer makes it: zod compilers, helmet on every route. */
async function serve(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(helmet);
  await app.register(webRoutes, { root });
  app.get('/api/v1/ping', async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('web routes over a build', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cql-web-'));
    mkdirSync(join(dir, 'assets'));
    mkdirSync(join(dir, '.vite'));
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><title>chat</title><meta name="description" content="${'casa '.repeat(100)}"><script type="module" src="/assets/chat-abc123.js"></script>`,
    );
    writeFileSync(join(dir, 'console.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'chat-abc123.js'), SCRIPT);
    // What the build writes beside each text file, sent to clients that accept gzip.
    writeFileSync(join(dir, 'assets', 'chat-abc123.js.gz'), gzipSync(SCRIPT));
    writeFileSync(join(dir, 'assets', 'chat-abc123.css'), 'body{color:red}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dir, '.vite', 'manifest.json'), '{}');
    app = await serve(dir);
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a browser the chat page at /', async () => {
    const response = await app.inject({ url: '/', headers: { accept: BROWSER_ACCEPT } });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/html/);
    assert.match(response.body, /<title>chat<\/title>/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.ok(varyOf(response.headers).includes('accept'), String(response.headers.vary));
    assert.ok(varyOf(response.headers).includes('accept-encoding'));
  });

  it('keeps the JSON description for API clients and curl at /', async () => {
    for (const accept of [
      undefined,
      '*/*',
      'application/json',
      'application/json, text/html;q=0.5',
    ]) {
      const response = await app.inject({ url: '/', headers: accept ? { accept } : {} });
      assert.equal(response.statusCode, 200, String(accept));
      assert.match(response.headers['content-type'] as string, /^application\/json/);
      assert.deepEqual(response.json(), { message: service.description, docs: '/docs' });
      assert.ok(varyOf(response.headers).includes('accept'), String(response.headers.vary));
    }
  });

  it('serves the console at /console, whatever the Accept', async () => {
    const response = await app.inject({ url: '/console' });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /<title>console<\/title>/);
  });

  it('sends the pages a policy without inline code and without upgrade-insecure-requests', async () => {
    for (const url of ['/', '/console']) {
      const response = await app.inject({ url, headers: { accept: BROWSER_ACCEPT } });
      const csp = response.headers['content-security-policy'] as string;
      assert.ok(csp, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(
        response.headers['x-content-type-options'],
        'nosniff',
        "helmet's other headers stay",
      );
    }
  });

  it("leaves helmet's default policy on the API routes", async () => {
    const response = await app.inject({ url: '/api/v1/ping' });
    assert.match(
      response.headers['content-security-policy'] as string,
      /upgrade-insecure-requests/,
    );
  });

  it('serves hashed assets immutable for a year, gzipped when asked', async () => {
    const plain = await app.inject({ url: '/assets/chat-abc123.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, SCRIPT);
    assert.match(plain.headers['content-type'] as string, /javascript/);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-encoding'], undefined);

    const zipped = await app.inject({
      url: '/assets/chat-abc123.js',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(varyOf(zipped.headers).includes('accept-encoding'));
    assert.equal(gunzipSync(zipped.rawPayload).toString(), SCRIPT);
    assert.ok(zipped.rawPayload.length < SCRIPT.length);

    const refused = await app.inject({
      url: '/assets/chat-abc123.js',
      headers: { 'accept-encoding': 'gzip;q=0' },
    });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('answers a revalidation with 304 through the ETag', async () => {
    const first = await app.inject({ url: '/', headers: { accept: BROWSER_ACCEPT } });
    const etag = first.headers.etag as string;
    assert.match(etag, /^(W\/)?".+"$/);
    const again = await app.inject({
      url: '/',
      headers: { accept: BROWSER_ACCEPT, 'if-none-match': etag },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('serves the icon, and nothing of the build that is not a page or a file of it', async () => {
    const icon = await app.inject({ url: '/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'public, max-age=86400');
    for (const url of [
      '/assets/missing.js',
      '/.vite/manifest.json',
      '/index.html',
      '/assets/../index.html',
    ]) {
      const response = await app.inject({ url });
      assert.notEqual(response.statusCode, 200, url);
    }
  });

  it('answers HEAD for the pages', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/console' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '');
  });
});

describe('web routes without a build', () => {
  it('keeps the JSON description and shows browsers how to build the app', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cql-web-empty-'));
    const app = await serve(join(dir, 'nothing-here'));
    try {
      const json = await app.inject({ url: '/' });
      assert.equal(json.statusCode, 200);
      assert.equal(json.json().docs, '/docs');
      for (const url of ['/', '/console']) {
        const page = await app.inject({ url, headers: { accept: BROWSER_ACCEPT } });
        assert.equal(page.statusCode, 503, url);
        assert.match(page.headers['content-type'] as string, /^text\/html/);
        assert.ok(page.body.includes(html.notBuilt), url);
      }
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('prefersHtml and the default root', () => {
  it('prefers HTML only when the client ranks it above JSON', () => {
    assert.equal(prefersHtml(BROWSER_ACCEPT), true);
    assert.equal(prefersHtml('text/html'), true);
    assert.equal(prefersHtml('*/*'), false);
    assert.equal(prefersHtml('application/json'), false);
    assert.equal(prefersHtml('text/html;q=0, */*'), false);
    assert.equal(prefersHtml('text/html;q=0.5, application/json'), false);
    assert.equal(prefersHtml(undefined), false);
  });

  it('is dist/web of the package', () => {
    assert.equal(DEFAULT_WEB_ROOT, fileURLToPath(new URL('../dist/web/', import.meta.url)));
  });
});
