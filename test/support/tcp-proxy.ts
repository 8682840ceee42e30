/**
 * A loopback TCP proxy that can cut one client's path to a healthy Redis: the network partition
 * a real server cannot produce on demand (it would cut every client at once).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** What clients sent through it so far (their commands, as text), with `record`. */
  sent(): string;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Keep what clients send, for sent(): a test waits until a command went out. @default false */
  record?: boolean;
}

export async function startProxy(
  targetPort: number,
  { record = false }: ProxyOptions = {},
): Promise<TcpProxy> {
  let open = true;
  let sent = '';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    if (record) client.on('data', (chunk: Buffer) => (sent += chunk.toString('latin1')));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
