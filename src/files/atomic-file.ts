/**
 * A file written whole or not at all: the text goes to a new temporary file beside the target
 * (created exclusively, never through a link, mode 0600), renamed over the target once complete.
 * The target must be a regular file or a new path: a device, FIFO, socket, directory or symbolic
 * link there is refused, so `--out /dev/null` or a link planted where a backup goes never turns
 * into a readable copy of every conversation.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { assertRegularOrAbsent } from './file-kind.js';

/** Text gathered before it is handed to the file system. */
const FLUSH_CHARACTERS = 64 * 1024;

const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface AtomicFileOptions {
  /** Permissions of the file written (it may hold conversations). @default 0o600 */
  mode?: number;
}

export class AtomicFile {
  readonly path: string;
  readonly temporaryPath: string;
  #handle: FileHandle | undefined;
  #pending: string[] = [];
  #pendingCharacters = 0;
  /** Renamed into place, or dropped. */
  #finished = false;

  private constructor(path: string, temporaryPath: string, handle: FileHandle) {
    this.path = path;
    this.temporaryPath = temporaryPath;
    this.#handle = handle;
  }

  /**
   * Checks the target (NotARegularFileError if it exists and is not a regular file) and creates
   * the temporary file beside it. File system errors (a missing folder, no permission) are
   * thrown as they are.
   */
  static async create(path: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    await assertRegularOrAbsent(path);
    const mode = options.mode ?? 0o600;
    const name = `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`;
    const temporaryPath = join(dirname(path), name);
    const handle = await open(temporaryPath, CREATE_FLAGS, mode);
    const file = new AtomicFile(path, temporaryPath, handle);
    try {
      // The umask may have removed bits from `mode`: exactly `mode`, whatever the umask.
      await handle.chmod(mode);
    } catch (error) {
      await file.discard();
      throw error;
    }
    return file;
  }

  async write(text: string): Promise<void> {
    this.#pending.push(text);
    this.#pendingCharacters += text.length;
    if (this.#pendingCharacters >= FLUSH_CHARACTERS) await this.#flush();
  }

  /** Writes what is left, flushes it to the disk and puts the file in place of the target; on
   * any failure the temporary file is removed and the target left as it was. */
  async commit(): Promise<void> {
    try {
      await this.#flush();
      const handle = this.#open();
      await handle.sync();
      this.#handle = undefined;
      await handle.close();
      // Checked again: the target may have changed since. (A rename replaces a symbolic link
      // itself, never what it points to; a special file is refused outright all the same.)
      await assertRegularOrAbsent(this.path);
      await rename(this.temporaryPath, this.path);
      this.#finished = true;
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  /** Drops the temporary file; the target is left as it was. Safe to call after commit(). */
  async discard(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const handle = this.#handle;
    this.#handle = undefined;
    this.#pending = [];
    await handle?.close().catch(() => undefined);
    await rm(this.temporaryPath, { force: true });
  }

  #open(): FileHandle {
    if (this.#handle === undefined) throw new Error(`${this.temporaryPath} is already closed`);
    return this.#handle;
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingCharacters = 0;
    // From the current position: each flush appends.
    await this.#open().writeFile(text);
  }
}
