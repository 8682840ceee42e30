/**
 * The terminal chat's session tokens: the chat holds the token of each session it started, as
 * the web app does, in a JSON file readable by its owner only (0600) beside the generated admin
 * key, so that `cql-agent chat --session ID` continues the conversation another day.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AtomicFile } from '../files/atomic-file.js';
import { assertRegularOrAbsent } from '../files/file-kind.js';

export class ChatTokens {
  readonly path: string;
  #tokens: Record<string, string> = {};

  private constructor(path: string) {
    this.path = path;
  }

  /** Reads the file (none yet: no tokens). A file that is not a regular file is refused. */
  static async open(path: string): Promise<ChatTokens> {
    const tokens = new ChatTokens(path);
    await assertRegularOrAbsent(path);
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        for (const [id, token] of Object.entries(parsed)) {
          if (typeof token === 'string') tokens.#tokens[id] = token;
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return tokens;
  }

  get(sessionId: string): string | undefined {
    return Object.hasOwn(this.#tokens, sessionId) ? this.#tokens[sessionId] : undefined;
  }

  /** Remembers a token and writes the file at once (atomically, 0600). */
  async set(sessionId: string, token: string): Promise<void> {
    this.#tokens[sessionId] = token;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const file = await AtomicFile.create(this.path);
    try {
      await file.write(`${JSON.stringify(this.#tokens, null, 2)}\n`);
      await file.commit();
    } finally {
      await file.discard();
    }
  }
}
