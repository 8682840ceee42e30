/**
 * A memory store that survives restarts: its sessions are written to MEMORY_SNAPSHOT_PATH (the
 * export format, JSON lines) when it closes, and read back when it opens. The same file can be
 * imported into Redis with `cql-agent sessions import`, which moves a deployment from memory to
 * Redis without losing its sessions. What changed after the last clean shutdown (a crash) is not
 * in the file.
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

export class SnapshottedMemoryStore extends MemorySessionStore {
  readonly #path: string;
  readonly #logger: Logger;
  #cipher: SessionCipher | undefined;

  constructor(path: string, options: MemoryStoreOptions & { logger: Logger }) {
    super(options);
    this.#path = path;
    this.#logger = options.logger;
  }

  /** Checks that the snapshot can be written (a bad path fails now, not at shutdown), then reads
   * it, if there is one. */
  async load(options: ImportOptions): Promise<void> {
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

  /** Writes the snapshot (atomically: a temporary file, then a rename), then closes. */
  override async close(): Promise<void> {
    try {
      const lines: string[] = [];
      for await (const line of exportSessions(this, { cipher: this.#cipher }))
        lines.push(JSON.stringify(line));
      const temporary = `${this.#path}.tmp`;
      await writeFile(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
      await rename(temporary, this.#path);
      this.#logger.info(
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
    await super.close();
  }
}
