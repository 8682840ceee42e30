/**
 * The child processes a test process starts (redis-server, the API) end with it, killed by PID:
 * at its exit, and when it is stopped by a signal (the test runner stops a file past its timeout
 * with SIGTERM), which would otherwise skip 'exit' and leave them running.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(128 + constants.signals[signal]));
}

/** Kills `child` when this process ends, unless it has exited by then. */
export function endWithThisProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}
