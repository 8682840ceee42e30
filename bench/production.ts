/**
 * What the benchmarks share: the application wired by createApp as a deployment runs it, the
 * conversations they store, and the least a raw client must do for a safe save.
 */
import { type CommandParser, defineScript } from '@redis/client';
import { RepairAgent } from '../src/agent/repair-agent.js';
import { type App, createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { testResponder } from '../test/support/fixtures.js';

export const TTL = 3600;

/** The application as `cql-agent serve` wires it, from these variables only (no .env). */
export async function openApp(env: Record<string, string>): Promise<App> {
  const config = loadConfig({
    env: { SESSION_TTL: String(TTL), MAX_ATTEMPTS: '10', LOG_LEVEL: 'silent', ...env },
    envFile: false,
  });
  return createApp({
    config,
    logger: createLogger({ level: 'silent' }),
    responder: await testResponder(),
  });
}

/** An agent after `turns` repair turns with the offline responder (10: 20 messages). */
export async function conversation(turns = 10): Promise<RepairAgent> {
  const agent = new RepairAgent({ responder: await testResponder(), maxAttempts: 10 });
  await agent.chat('a torneira da cozinha está pingando sem parar desde ontem à noite');
  for (let i = 0; i < turns - 1; i++) {
    await agent.chat(i % 2 ? 'talvez, não sei dizer' : 'não funcionou');
  }
  return agent;
}

/**
 * The smallest compare-and-set a raw client can run: GETRANGE of the first 64 bytes, compared
 * with what the caller expects there, then SET ... EX. KEYS[1]; ARGV value, expected first 64
 * bytes, ttl -> 1 written, 0 refused.
 */
export const minimalCompareAndSet = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `if redis.call('GETRANGE', KEYS[1], 0, 63) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`,
  parseCommand(parser: CommandParser, key: string, value: string, expected: string, ttl: number) {
    parser.pushKey(key);
    parser.push(value, expected, String(ttl));
  },
  transformReply: (reply: unknown) => reply as number,
});

/**
 * Two values that differ in their first 64 bytes (the version), for a compare-and-set that
 * writes every time: each call writes one over the other.
 */
export function alternating(value: string): () => { value: string; expected: string } {
  const other = value.replace(/"version":(\d+)/, (_, v: string) => `"version":${Number(v) + 1}`);
  const values = [value, other];
  let turn = 0;
  return () => {
    const i = turn++ % 2;
    return { value: values[i] ?? value, expected: (values[1 - i] ?? value).slice(0, 64) };
  };
}
