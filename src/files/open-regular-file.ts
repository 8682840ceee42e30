/** Opens a file for reading only if it is a regular file: a FIFO is never waited on, a device
 * never read, and (unless asked) a symbolic link never followed. */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { kindAt, kindOf, NotARegularFileError } from './file-kind.js';

export interface OpenRegularFileOptions {
  /** Read what a symbolic link points to (a file a person named) rather than refuse the link.
   * @default false */
  followSymlinks?: boolean;
}

export async function openRegularFile(
  path: string,
  options: OpenRegularFileOptions = {},
): Promise<FileHandle> {
  // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (it is refused
  // just below); it changes nothing for a regular file.
  const flags =
    constants.O_RDONLY | constants.O_NONBLOCK | (options.followSymlinks ? 0 : constants.O_NOFOLLOW);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP: a link, with O_NOFOLLOW; ENXIO: a socket. Named by what is there.
    if (code === 'ELOOP' || code === 'ENXIO') {
      const kind = await kindAt(path);
      if (kind !== undefined && kind !== 'file') throw new NotARegularFileError(path, kind);
    }
    throw error;
  }
  const kind = kindOf(await handle.stat());
  if (kind !== 'file') {
    await handle.close();
    throw new NotARegularFileError(path, kind);
  }
  return handle;
}
