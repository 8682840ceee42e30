/**
 * The admin key: ADMIN_API_KEY when set; otherwise one the server makes at its first start and
 * keeps, readable by its owner only (0600), in ADMIN_API_KEY_FILE, reused while the file exists.
 * The log names the file, never the key.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstat, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { PROBLEMS } from '../texts/config.js';

/** The shortest key accepted from the file (as ADMIN_API_KEY). */
const MIN_KEY_LENGTH = 16;

/** 256 random bits, URL-safe: pasted into a header or a `/console#key=` link as it is. */
function newKey(): string {
  return randomBytes(32).toString('base64url');
}

async function readKeyFile(path: string): Promise<string | undefined> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A symlink or a device would let someone else choose what the key is, or where it goes.
  if (!info.isFile()) {
    throw new ConfigError([PROBLEMS.adminKeyFileNotRegular(path)]);
  }
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    throw new ConfigError([PROBLEMS.adminKeyFileReadableByOthers(path, mode)]);
  }
  const key = (await readFile(path, 'utf8')).trim();
  if (key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
    throw new ConfigError([PROBLEMS.adminKeyFileMalformed(path, MIN_KEY_LENGTH)]);
  }
  return key;
}

/** Writes a new key to a file that must not exist yet, created 0600. */
async function writeKeyFile(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = newKey();
  const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await file.writeFile(`${key}\n`);
  } finally {
    await file.close();
  }
  return key;
}

/** The key admin routes take. */
export async function resolveAdminKey(config: Config, logger: Logger): Promise<string> {
  if (config.api.adminApiKey !== undefined) return config.api.adminApiKey;
  const path = resolve(config.api.adminApiKeyFile);
  let key = await readKeyFile(path);
  const created = key === undefined;
  if (key === undefined) {
    try {
      key = await writeKeyFile(path);
    } catch (error) {
      // Another instance on the same folder made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      key = await readKeyFile(path);
      if (key === undefined) throw error;
    }
  }
  // Instances that share a Redis would each make their own key: they should set ADMIN_API_KEY.
  const level = config.useRedis ? 'warn' : 'info';
  logger[level](
    { event_type: 'admin_key_file', admin_key_file: path, created },
    `ADMIN_API_KEY não definida: a chave de administração está em ${path} (leia com: cat ${path})`,
  );
  return key;
}
