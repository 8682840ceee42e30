/**
 * Builds the web app (the chat at `/`, the console at `/console`) into dist/web, which the API
 * serves (src/api/routes/web.ts). Pages take their words from src/texts/web.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import { html } from '../src/texts/web.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Replaces {{name}} in the HTML pages with html[name], escaped; an unknown name fails the build. */
function pageTexts(): Plugin {
  return {
    name: 'cql-page-texts',
    transformIndexHtml(source) {
      return source.replace(/\{\{(\w+)\}\}/g, (_whole, name: string) => {
        const text = (html as Record<string, string>)[name];
        if (text === undefined) throw new Error(`web/*.html: no text "${name}" in html texts`);
        return escapeHtml(text);
      });
    },
  };
}

/** Text files the server may send compressed. */
const COMPRESSIBLE = /\.(js|css|html|svg)$/;

/** Writes a gzip copy beside each text file of the build (name.gz): the server sends it as it is
 * to clients that accept gzip (@fastify/static's preCompressed), so nothing is compressed per
 * request. */
function gzipCopies(): Plugin {
  return {
    name: 'cql-gzip-copies',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? '';
      for (const file of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const path = join(dir, file);
        const item = bundle[file];
        const source = item?.type === 'chunk' ? item.code : item?.source;
        if (source === undefined) continue;
        writeFileSync(`${path}.gz`, gzipSync(source, { level: 9 }));
      }
    },
  };
}

/** The API `npm run dev:web` forwards to. @default http://localhost:5000 */
const api = process.env.API_URL ?? 'http://localhost:5000';

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  plugins: [pageTexts(), gzipCopies()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Read by scripts/web-size.ts to add up what each page loads first.
    manifest: true,
    target: 'es2022',
    // Every asset is a file under /assets: the Content-Security-Policy allows nothing inline.
    assetsInlineLimit: 0,
    // Browsers that run this code support modulepreload: no polyfill.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: { chat: page('index.html'), console: page('console.html') },
    },
  },
  server: {
    proxy: { '/api': api, '/health': api },
  },
});
