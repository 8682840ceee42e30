/**
 * A memory store that survives restarts: its sessions are written to MEMORY_SNAPSHOT_PATH (the
 * export format, JSON lines) every MEMORY_SNAPSHOT_INTERVAL seconds when they changed, and when
 * it closes; they are read back when it opens. The same file can be imported into Redis with
 * `cql-agent sessions import`, which moves a deployment from memory to Redis without losing its
 * sessions. A crash loses what changed since the last write.
 */
import { constants, createReadStream, existsSync } from 'node:fs';
import { access, copyFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import type { SessionCipher } from './cipher.js';
import { MemorySessionStore, type MemoryStoreOptions } from './stores/memory.js';
import { exportSessions, type ImportOptions, importSessions } from './transfer.js';

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
    try {
      await access(dirname(resolve(this.#path)), constants.W_OK);
    } catch (error) {
      throw new ConfigError([
        `MEMORY_SNAPSHOT_PATH ${JSON.stringify(this.#path)}: its folder cannot be written (${(error as Error).message})`,
      ]);
    }
    if (!existsSync(this.#path)) return;
    const report = await importSessions(
      this,
      createInterface({ input: createReadStream(this.#path) }),
      options,
    );
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
      await copyFile(this.#path, kept);
      this.#logger.warn(
        {
          event_type: 'memory_snapshot_unread',
          path: kept,
          failed: report.failed.length,
          first_failure: report.failed[0],
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

  /** Writes the snapshot atomically: a temporary file, then a rename. */
  async #write(final: boolean): Promise<void> {
    const changes = this.changes;
    try {
      const lines: string[] = [];
      for await (const line of exportSessions(this, { cipher: this.#cipher }))
        lines.push(JSON.stringify(line));
      const temporary = `${this.#path}.tmp`;
      await writeFile(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
      await rename(temporary, this.#path);
      this.#written = changes;
      // Every interval would be one line at info: only the one at shutdown is.
      this.#logger[final ? 'info' : 'debug'](
        { event_type: 'memory_snapshot_saved', path: this.#path, sessions: lines.length },
        'Sessões em memória gravadas no snapshot',
      );
    } catch (error) {
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
