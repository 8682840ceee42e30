/** What a path is on disk. Only a regular file (or nothing yet) is ever written over or read as
 * data: a device, a FIFO, a socket, a directory or a symbolic link is refused by name. */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

export type FileKind =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'fifo'
  | 'socket'
  | 'character-device'
  | 'block-device'
  | 'unknown';

/** Anything but a regular file. */
export type SpecialFileKind = Exclude<FileKind, 'file'>;

export function kindOf(stats: Stats): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character-device';
  if (stats.isBlockDevice()) return 'block-device';
  return 'unknown';
}

/** A path that exists and is not a regular file, where a regular file was needed. */
export class NotARegularFileError extends Error {
  readonly code = 'ERR_NOT_A_REGULAR_FILE';
  override name = 'NotARegularFileError';

  constructor(
    readonly path: string,
    readonly kind: SpecialFileKind,
  ) {
    super(`${JSON.stringify(path)} is a ${kind}, not a regular file`);
  }
}

/** What is at `path` itself (a symbolic link is not followed); undefined when nothing is. */
export async function kindAt(path: string): Promise<FileKind | undefined> {
  try {
    return kindOf(await lstat(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Resolves when `path` is a regular file or does not exist; NotARegularFileError otherwise. */
export async function assertRegularOrAbsent(path: string): Promise<void> {
  const kind = await kindAt(path);
  if (kind !== undefined && kind !== 'file') throw new NotARegularFileError(path, kind);
}
