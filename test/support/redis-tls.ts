/**
 * TLS for tests: a throw-away certificate authority with server and client certificates (made
 * with the openssl command), and a private redis-server that serves TLS only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedisServer } from './redis-server.js';

/** Absolute paths of PEM files in `dir`. */
export interface TlsFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  /** For 127.0.0.1 and localhost, signed by the CA (also usable as a client certificate). */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Signed by the same CA. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** An unrelated CA that signed nothing here: trusting only it must fail. */
  readonly otherCaCert: string;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no

[dn]
CN = CQL Agent test

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

/** EC P-256 keys: much faster to make than RSA. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const DAYS = ['-days', '2'];

export function makeCertificates(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'cql-tls-'));
  const file = (name: string) => join(dir, name);
  const config = file('openssl.cnf');
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    writeFileSync(config, OPENSSL_CONFIG);
    const settings = ['-config', config, ...DAYS];
    for (const [name, subject] of [
      ['ca', '/CN=CQL Agent test CA'],
      ['other-ca', '/CN=CQL Agent unrelated CA'],
    ] as const) {
      const out = ['-keyout', file(`${name}.key`), '-out', file(`${name}.crt`)];
      openssl(
        'req',
        '-x509',
        ...NEW_KEY,
        ...out,
        ...settings,
        '-extensions',
        'ca',
        '-subj',
        subject,
      );
    }
    const signedBy = ['-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial'];
    for (const [name, subject] of [
      ['server', '/CN=localhost'],
      ['client', '/CN=cql-agent-client'],
    ] as const) {
      const request = file(`${name}.csr`);
      const out = ['-keyout', file(`${name}.key`), '-out', request];
      openssl('req', '-new', ...NEW_KEY, ...out, '-config', config, '-subj', subject);
      const extensions = ['-extfile', config, '-extensions', name];
      openssl(
        'x509',
        '-req',
        '-in',
        request,
        ...signedBy,
        '-out',
        file(`${name}.crt`),
        ...DAYS,
        ...extensions,
      );
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl could not make the test certificates: ${stderr || error}`);
  }
  return {
    dir,
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    otherCaCert: file('other-ca.crt'),
  };
}

export function removeCertificates(files: TlsFiles): void {
  rmSync(files.dir, { recursive: true, force: true });
}

export interface TlsRedisServer {
  /** The TLS port (the server has no plain TCP port). */
  readonly port: number;
  readonly pid: number;
  /** rediss://[:password@]127.0.0.1:port/db */
  url(db?: number): string;
  stop(): Promise<void>;
  /** The underlying server (signal, restart, dir). */
  readonly server: RedisServer;
}

export interface TlsServerOptions {
  /** `--tls-auth-clients yes`: refuse clients without a certificate signed by the CA. */
  requireClientCert?: boolean;
  password?: string;
  /** Extra redis-server arguments. */
  args?: string[];
}

/** A redis-server that serves TLS only (`--port 0 --tls-port <free port>`), with the server
 * certificate of `files` and their CA as the trusted client CA. */
export async function startTlsRedisServer(
  files: TlsFiles,
  options: TlsServerOptions = {},
): Promise<TlsRedisServer> {
  const server = await startRedisServer({
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.args === undefined ? {} : { args: options.args }),
    tls: {
      certFile: files.serverCert,
      keyFile: files.serverKey,
      caCertFile: files.caCert,
      authClients: options.requireClientCert ?? false,
    },
  });
  return {
    port: server.port,
    pid: server.pid,
    url: (db) => server.url(db),
    stop: () => server.stop(),
    server,
  };
}
