/**
 * How long a client may take, and how many connections it may hold: a client that sends its
 * request a byte at a time is cut off when its time to send headers or body is up, and one
 * address cannot hold every connection the server has. The time a turn takes (a model on a CPU
 * may need a minute) is not bounded here: the idle timeout stays above LLM_TIMEOUT + 10 s.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** How often Node checks the header and request deadlines (its default is 30 s, which would let
 * a slow client hold a connection up to that much past its deadline). */
const DEADLINE_CHECK_MS = 1000;
/** What the idle timeout keeps above the longest turn. */
const IDLE_MARGIN_MS = 15000;

export interface HttpTimeouts {
  /** Time to send the request headers. */
  headersTimeout: number;
  /** Time to send the whole request, headers and body. */
  requestTimeout: number;
  /** A connection with no traffic at all for this long is closed (longer than any turn). */
  connectionTimeout: number;
  connectionsCheckingInterval: number;
}

export function httpTimeouts(config: Config): HttpTimeouts {
  const { api, llm } = config;
  return {
    headersTimeout: api.headersTimeoutMs,
    requestTimeout: api.bodyTimeoutMs,
    connectionTimeout: Math.max(api.bodyTimeoutMs, llm.timeoutMs) + IDLE_MARGIN_MS,
    connectionsCheckingInterval: DEADLINE_CHECK_MS,
  };
}

/**
 * Closes at once a connection from an address that already holds `max` open ones, so a client
 * opening hundreds of slow connections starves only itself. The count is per socket address: a
 * reverse proxy in front has its own limits, and shows as one address here.
 */
export function limitConnectionsPerAddress(server: Server, max: number, logger: Logger): void {
  const open = new Map<string, number>();
  let refusedSince = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      // One line per burst, not one per refused connection.
      if (refusedSince++ === 0) {
        logger.warn(
          { event_type: 'connection_refused', client_address: address, max_connections: max },
          'Conexões demais de um mesmo endereço: novas conexões recusadas',
        );
      }
      return;
    }
    refusedSince = 0;
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
