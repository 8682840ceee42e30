/** `cql-agent serve` in a child process on a free loopback port, for end-to-end tests, the API
 * benchmark and the chaos run. Stopped by its PID. */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface ApiProcess {
  /** http://127.0.0.1:port */
  readonly base: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (its log lines), unless started quiet. */
  output(): string;
  /** Sends a signal (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function answers(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/health`)).ok;
  } catch {
    return false;
  }
}

/**
 * Starts the API with exactly this environment (plus PATH), and waits until it answers.
 * `quiet` discards its standard output (a benchmark's millions of log lines).
 */
export async function startApiProcess(
  env: Record<string, string>,
  { quiet = false } = {},
): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', quiet ? 'ignore' : 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  void exited.then(() => running.delete(child));
  const api: ApiProcess = {
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + 20000;
  while (!(await answers(api.base))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await api.stop('SIGKILL');
      throw new Error(`the API on port ${port} did not start:\n${output}`);
    }
    await sleep(50);
  }
  return api;
}
