/**
 * A memory store that survives restarts: its sessions are written to MEMORY_SNAPSHOT_PATH (the
 * export format, JSON lines) when it closes, and read back when it opens. The same file can be
 * imported into Redis with `cql-agent sessions import`, which moves a deployment from memory to
 * Redis without losing its sessions.
 */
import { createReadStream, existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { MemorySessionStore, type MemoryStoreOptions } from './stores/memory.js';
import { exportSessions, type ImportOptions, importSessions } from './transfer.js';

export class SnapshottedMemoryStore extends MemorySessionStore {
  readonly #path: string;
  readonly #logger: Logger;

  constructor(path: string, options: MemoryStoreOptions & { logger: Logger }) {
    super(options);
    this.#path = path;
    this.#logger = options.logger;
  }

  /** Reads the snapshot, if there is one. */
  async load(options: ImportOptions): Promise<void> {
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
  }

  /** Writes the snapshot (atomically: a temporary file, then a rename), then closes. */
  override async close(): Promise<void> {
    const lines: string[] = [];
    for await (const line of exportSessions(this)) lines.push(JSON.stringify(line));
    const temporary = `${this.#path}.tmp`;
    await writeFile(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    await rename(temporary, this.#path);
    this.#logger.info(
      { event_type: 'memory_snapshot_saved', path: this.#path, sessions: lines.length },
      'Sessões em memória gravadas no snapshot',
    );
    await super.close();
  }
}
