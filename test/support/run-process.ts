/** Runs a Node.js program to its end with exactly this environment (plus PATH) and collects its
 * output; killed by PID after 90 s (a guard against a hang, generous for a loaded machine). */
import { spawn } from 'node:child_process';
import { endWithThisProcess } from './children.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    endWithThisProcess(child);
    child.stdin?.end(options.input);
    const killer = setTimeout(() => child.kill('SIGKILL'), 90000);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}
