/**
 * A memory store that survives restarts: its sessions are written to MEMORY_SNAPSHOT_PATH (the
 * export format, JSON lines) every MEMORY_SNAPSHOT_INTERVAL seconds when they changed, and when
 * it closes; they are read back when it opens. The same file can be imported into Redis with
 * `cql-agent sessions import`, which moves a deployment from memory to Redis without losing its
 * sessions. A crash loses what changed since the last write.
 *
 * The file holds every conversation: it is created with mode 0600 (a temporary file beside it,
 * then a rename), and MEMORY_SNAPSHOT_PATH must be a regular file or a new path. A device, FIFO,
 * socket, directory or symbolic link there stops the start-up with one clear error.
 */
import { constants } from 'node:fs';
import { access, chmod, copyFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import { AtomicFile } from '../files/atomic-file.js';
import { kindAt, NotARegularFileError } from '../files/file-kind.js';
import { openRegularFile } from '../files/open-regular-file.js';
import { readLines } from '../files/read-lines.js';
import { SNAPSHOT, systemReason } from '../texts/cli.js';
import type { SessionCipher } from './cipher.js';
import { MemorySessionStore, type MemoryStoreOptions } from './stores/memory.js';
import {
  exportSessions,
  type ImportOptions,
  type ImportReport,
  importSessions,
  maxImportLineBytes,
} from './transfer.js';

export interface SnapshotOptions extends MemoryStoreOptions {
  logger: Logger;
  /** How often the snapshot is written while the store changes; 0: only when it closes.
   * @default 0 */
  intervalMs?: number;
}

export class SnapshottedMemoryStore extends MemorySessionStore {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #cipher: SessionCipher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The write under way (or the last one): writes run one at a time. */
  #writing: Promise<void> = Promise.resolve();
  /** `changes` as of the file's contents. */
  #written = -1;

  constructor(path: string, options: SnapshotOptions) {
    super(options);
    this.#path = path;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? 0;
  }

  /** Checks that the snapshot can be written (a bad path fails now, not at shutdown), reads it,
   * if there is one, and starts the periodic writes. */
  async load(options: ImportOptions): Promise<void> {
    await this.#read(options);
    // What was just read is what the file holds.
    this.#written = this.changes;
    if (this.#intervalMs > 0) {
      this.#timer = setInterval(() => void this.#save(false), this.#intervalMs);
      this.#timer.unref();
    }
  }

  async #read(options: ImportOptions): Promise<void> {
    this.#cipher = options.cipher;
    const reason = (error: unknown) =>
      systemReason((error as NodeJS.ErrnoException).code, (error as Error).message);
    try {
      await access(dirname(resolve(this.#path)), constants.W_OK);
    } catch (error) {
      throw new ConfigError([SNAPSHOT.folderNotWritable(this.#path, reason(error))]);
    }
    const kind = await kindAt(this.#path);
    if (kind === undefined) return;
    if (kind !== 'file') throw new ConfigError([SNAPSHOT.notARegularFile(this.#path, kind)]);
    let report: ImportReport;
    try {
      // Opened without following a link and checked again once open: what was just looked at.
      const file = await openRegularFile(this.#path);
      try {
        const lines = readLines(file.createReadStream({ autoClose: false }), {
          maxLineBytes: maxImportLineBytes(options.maxBytes),
        });
        report = await importSessions(this, lines, options);
      } finally {
        await file.close();
      }
    } catch (error) {
      if (error instanceof NotARegularFileError)
        throw new ConfigError([SNAPSHOT.notARegularFile(this.#path, error.kind)]);
      throw new ConfigError([SNAPSHOT.unreadable(this.#path, reason(error))]);
    }
    this.#logger.info(
      {
        event_type: 'memory_snapshot_loaded',
        path: this.#path,
        sessions: report.imported,
        failed: report.failed.length,
      },
      'Sessões em memória restauradas do snapshot',
    );
    if (report.failed.length > 0) {
      // The file is rewritten at shutdown: keep the lines that could not be read (a key no
      // longer configured, say) in a copy, not only in a log line.
      const kept = `${this.#path}.unread-${Date.now()}`;
      await copyFile(this.#path, kept, constants.COPYFILE_EXCL);
      await chmod(kept, 0o600);
      this.#logger.warn(
        {
          event_type: 'memory_snapshot_unread',
          path: kept,
          failed: report.failed.length,
          first_failure: { line: report.failed[0]?.line, reason: report.failed[0]?.reason },
        },
        'Sessões do snapshot que não puderam ser lidas foram guardadas numa cópia',
      );
    }
  }

  /** Writes the snapshot a last time, then closes. */
  override async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#save(true);
    await super.close();
  }

  /** Queues a write: the periodic ones skip a store unchanged since the file was written. */
  #save(final: boolean): Promise<void> {
    this.#writing = this.#writing.then(() =>
      final || this.changes !== this.#written ? this.#write(final) : undefined,
    );
    return this.#writing;
  }

  /** Writes the snapshot atomically: a temporary file (0600), then a rename. */
  async #write(final: boolean): Promise<void> {
    const changes = this.changes;
    let file: AtomicFile | undefined;
    try {
      file = await AtomicFile.create(this.#path);
      let sessions = 0;
      for await (const line of exportSessions(this, { cipher: this.#cipher })) {
        await file.write(`${JSON.stringify(line)}\n`);
        sessions++;
      }
      await file.commit();
      this.#written = changes;
      // Every interval would be one line at info: only the one at shutdown is.
      this.#logger[final ? 'info' : 'debug'](
        { event_type: 'memory_snapshot_saved', path: this.#path, sessions },
        'Sessões em memória gravadas no snapshot',
      );
    } catch (error) {
      await file?.discard();
      this.#logger.error(
        {
          event_type: 'memory_snapshot_failed',
          path: this.#path,
          reason: (error as Error).message,
        },
        'Não foi possível gravar o snapshot das sessões em memória',
      );
    }
  }
}
