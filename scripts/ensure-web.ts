/**
 * Run before `npm start`: builds the web app when dist/web is missing or older than its sources
 * (web/ and src/texts/web.ts), so a fresh clone serves the chat at / straight away.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT = join(ROOT, 'dist', 'web', '.vite', 'manifest.json');
const SOURCES = [join(ROOT, 'web'), join(ROOT, 'src', 'texts', 'web.ts')];

/** The newest modification time under a file or folder (0 when it does not exist). */
function newest(path: string): number {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules') continue;
    latest = Math.max(latest, newest(join(path, name)));
  }
  return latest;
}

const built = newest(BUILT);
const sources = Math.max(...SOURCES.map(newest));
if (built === 0 || sources > built) {
  console.log(
    built === 0 ? 'Web app not built yet: building it.' : 'Web app sources changed: rebuilding.',
  );
  // Under npm, npm_execpath is npm's own script; run it with this Node.
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build:web'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('Building the web app failed; the API starts anyway, without it.');
  }
}
