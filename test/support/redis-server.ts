/**
 * Private redis-server processes for tests and benchmarks: each on a free loopback port with its
 * own temporary folder, stopped by PID (never by name, never the machine's port 6379).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endWithThisProcess } from './children.js';

const RESERVED_PORT = 6379;

function findBinary(): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

const binary = findBinary();

/**
 * `{ skip }` for describe() when redis-server is missing. With REQUIRE_REDIS=1 a missing
 * redis-server is an error instead of a skip.
 */
export function redisTestOptions(): { skip?: string } {
  if (binary) return {};
  if (process.env.REQUIRE_REDIS === '1') {
    throw new Error('REQUIRE_REDIS=1 but no redis-server was found on PATH');
  }
  return { skip: 'redis-server not found (install it, or set REQUIRE_REDIS=1 to make this fatal)' };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** Its working folder (AOF and RDB files). */
  readonly dir: string;
  /** redis://[:password@]127.0.0.1:port/db (rediss:// with `tls`) */
  url(db?: number): string;
  /** Sends a signal to this server only (SIGSTOP to freeze it, SIGKILL to crash it). */
  signal(signal: NodeJS.Signals): void;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
  /** Stops it (SIGKILL with `crash`), waits `downMs`, and starts a new server on the same port
   * and folder (so an append-only file is reloaded). */
  restart(options?: { crash?: boolean; downMs?: number }): Promise<RedisServer>;
}

export interface StartOptions {
  password?: string;
  /** Reuse a port and folder (a restart). */
  port?: number;
  dir?: string;
  /** Extra redis-server arguments, e.g. ['--appendonly', 'yes']. */
  args?: string[];
  /**
   * ACL users, one rule line each, e.g. 'alice on >secret ~* &* +@all' or 'default off'.
   * Each line becomes `--user alice on >secret ~* &* +@all` with every rule a separate argument:
   * redis-server 7.0 quotes an argument that contains spaces, so `--user 'alice on >secret'` is
   * read as one user name and the server exits with "Spaces not allowed in ACL usernames".
   */
  aclUsers?: string[];
  /** Serve TLS only: `port` becomes the TLS port and the plain TCP port is off (`--port 0`). */
  tls?: RedisTlsOptions;
  /** A configuration file, given before every other argument (a sentinel's sentinel.conf). */
  configFile?: string;
}

export interface RedisTlsOptions {
  certFile: string;
  keyFile: string;
  caCertFile: string;
  /** `--tls-auth-clients yes` (a client certificate is required) or `no`. Default false. */
  authClients?: boolean;
}

/** A line redis-server logs once it listens: a data node, or a sentinel (which never logs the
 * first one). */
const READY = /Ready to accept connections|Sentinel ID is/;

function launch(port: number, dir: string, options: StartOptions): Promise<ChildProcess> {
  const args = options.configFile ? [options.configFile] : [];
  const { tls } = options;
  if (tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile);
    args.push('--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caCertFile);
    args.push('--tls-auth-clients', tls.authClients ? 'yes' : 'no');
  } else {
    args.push('--port', String(port));
  }
  args.push('--bind', '127.0.0.1', '--dir', dir, '--save', '');
  args.push('--appendonly', 'no', '--daemonize', 'no', '--enable-debug-command', 'local');
  if (options.password) args.push('--requirepass', options.password);
  for (const user of options.aclUsers ?? []) args.push('--user', ...user.trim().split(/\s+/));
  args.push(...(options.args ?? []));
  const child = spawn(binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  endWithThisProcess(child);
  return new Promise((resolve, reject) => {
    let output = '';
    // Generous: only a server that would never be ready fails here, not a slow machine.
    const timer = setTimeout(() => fail('did not become ready within 60 s'), 60000);
    function fail(reason: string) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} ${reason}:\n${output}`));
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (READY.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => fail(`exited with code ${code}`));
    child.on('error', (error) => fail(error.message));
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startRedisServer(options: StartOptions = {}): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cql-redis-'));
  let lastError: unknown;
  // A free port can be taken between the check and the bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    if (port === RESERVED_PORT) continue;
    try {
      const child = await launch(port, dir, options);
      const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
      const server: RedisServer = {
        port,
        pid: child.pid as number,
        dir,
        url: (db = 0) => `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}/${db}`,
        signal: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        stop: async () => {
          await stopChild(child, 'SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        },
        restart: async ({ crash = false, downMs = 0 } = {}) => {
          await stopChild(child, crash ? 'SIGKILL' : 'SIGTERM');
          await new Promise((resolve) => setTimeout(resolve, downMs));
          return startRedisServer({ ...options, port, dir });
        },
      };
      return server;
    } catch (error) {
      lastError = error;
      if (options.port !== undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  throw lastError;
}
