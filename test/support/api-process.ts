/** `cql-agent serve` in a child process on a free loopback port, for end-to-end tests, the API
 * benchmark and the chaos run. Stopped by its PID. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endWithThisProcess } from './children.js';
import { freePort } from './redis-server.js';
import { until } from './until.js';

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

async function answers(base: string): Promise<boolean> {
  try {
    // A server that accepted the connection but is too busy to answer is asked again.
    return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}

export interface StartApiOptions {
  /** Discard its standard output (a benchmark's millions of log lines). @default false */
  quiet?: boolean;
  /**
   * How long it may take to answer /health. Only a start that would never end fails on it: on a
   * loaded machine, compiling the sources alone takes seconds. @default 60000
   */
  startTimeoutMs?: number;
}

/** Starts the API with exactly this environment (plus PATH), and waits until it answers. */
export async function startApiProcess(
  env: Record<string, string>,
  { quiet = false, startTimeoutMs = 60000 }: StartApiOptions = {},
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
  endWithThisProcess(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const api: ApiProcess = {
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  try {
    await until(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
        }
        return answers(api.base);
      },
      'its /health',
      startTimeoutMs,
    );
  } catch (error) {
    await api.stop('SIGKILL');
    throw new Error(
      `the API on port ${port} did not start (${(error as Error).message}):\n${output}`,
    );
  }
  return api;
}
