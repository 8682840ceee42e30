/** Shared test fixtures: configuration from a plain object, the bundled responder, and a logger
 * whose lines can be inspected. */

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { OfflineResponder } from '../../src/agent/offline-responder.js';
import type { Responder, SolutionReply } from '../../src/agent/types.js';
import { type AppOptions, createApp } from '../../src/app.js';
import { type Config, ConfigError, loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { SessionRecordInput } from '../../src/sessions/codec.js';
import type { SessionManager } from '../../src/sessions/manager.js';

/** A Config from these variables only (no process environment, no .env file). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ env: { LOG_LEVEL: 'silent', ...env }, envFile: false });
}

/** The message of the ConfigError these variables raise; fails the test if they are accepted. */
export function configProblems(env: Record<string, string>): string {
  try {
    loadConfig({ env, envFile: false });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'ERR_INVALID_CONFIG');
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

let responder: Promise<OfflineResponder> | undefined;

/** The offline responder over the bundled knowledge base, loaded once per test file. */
export function testResponder(): Promise<OfflineResponder> {
  responder ??= OfflineResponder.fromDirectory();
  return responder;
}

/**
 * A model that streams the first 10 characters of the offline reply, then waits for release()
 * before the rest: a stream held open mid-reply.
 */
export async function pausedResponder(): Promise<{ responder: Responder; release: () => void }> {
  const inner = await testResponder();
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const responder: Responder = {
    name: 'ollama',
    async solve(request, options): Promise<SolutionReply> {
      const reply = await inner.solve(request);
      options?.onDelta?.(reply.text.slice(0, 10), { needsDetails: reply.needsDetails });
      await held;
      options?.onDelta?.(reply.text.slice(10), { needsDetails: reply.needsDetails });
      return reply;
    },
  };
  return { responder, release: () => release() };
}

export interface CapturedLogs {
  logger: Logger;
  /** Raw JSON lines. */
  lines: string[];
  /** Parsed lines. */
  records(): Array<Record<string, unknown>>;
}

export function captureLogs(level: Config['logLevel'] = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ level, destination }),
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A session manager wired as the service wires it (src/app.ts): over `store`, or the store the
 * configuration names (Redis with its memory copy, or memory). Its close() closes the store. */
export async function openManager(options: AppOptions = {}): Promise<SessionManager> {
  return (await createApp(options)).manager;
}

/** A stored session in the format every version reads (no fields added since the first): one
 * problem, one message, version 1, saved now. */
export function storedRecord(
  problem = 'a pia entupiu',
  changes: Partial<SessionRecordInput> = {},
): SessionRecordInput {
  const at = new Date().toISOString();
  return {
    schema_version: 1,
    version: 1,
    state: 'waiting_feedback',
    current_attempt: 1,
    max_attempts: 3,
    use_rag: true,
    use_web_search: false,
    created_at: at,
    updated_at: at,
    problem,
    conversation_history: [{ role: 'user', content: problem, at }],
    ...changes,
  };
}
