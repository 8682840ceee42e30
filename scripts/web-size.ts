/**
 * Prints what each page of the web app loads first (its entry script and every script that
 * entry imports, gzipped), from the build's manifest, and fails when a page passes the budget.
 * Run after `vite build` by `npm run build:web`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Budget for one page's first load of JavaScript, gzipped. */
export const BUDGET_BYTES = 150 * 1000;

const WEB = fileURLToPath(new URL('../dist/web/', import.meta.url));
const PAGES = { '/': 'index.html', '/console': 'console.html' } as const;

interface ManifestChunk {
  file: string;
  imports?: string[];
  isEntry?: boolean;
}

type Manifest = Record<string, ManifestChunk>;

/** The entry's script and its static imports, each once. */
export function firstLoad(manifest: Manifest, entry: string): string[] {
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (chunk === undefined) throw new Error(`dist/web/.vite/manifest.json has no "${key}"`);
    if (files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit(entry);
  return [...files].filter((file) => file.endsWith('.js'));
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

function main(): number {
  const manifest = JSON.parse(
    readFileSync(join(WEB, '.vite', 'manifest.json'), 'utf8'),
  ) as Manifest;
  let over = false;
  console.log('First load of JavaScript per page (gzip):');
  for (const [path, entry] of Object.entries(PAGES)) {
    const files = firstLoad(manifest, entry);
    let raw = 0;
    let gzip = 0;
    for (const file of files) {
      const body = readFileSync(join(WEB, file));
      raw += body.length;
      gzip += gzipSync(body).length;
    }
    const verdict = gzip <= BUDGET_BYTES ? 'within' : 'OVER';
    over ||= gzip > BUDGET_BYTES;
    console.log(
      `  ${path.padEnd(9)} ${kb(gzip).padStart(9)} gzip (${kb(raw)} raw, ${files.length} files) — ${verdict} the ${kb(BUDGET_BYTES)} budget`,
    );
  }
  return over ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
