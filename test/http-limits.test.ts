/**
 * Slow clients and connection floods, as the attacks: a body sent a byte at a time, headers that
 * never end, one address opening connection after connection. Each is cut off while a client on
 * another address (127.0.0.2) is served. Ordered by events (a socket closing), never by time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { httpTimeouts } from '../src/api/http-limits.js';
import type { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { testConfig } from './support/fixtures.js';
import { testApi } from './support/test-api.js';
import { until } from './support/until.js';

/** A connection from `localAddress` to the server, with what it received. */
function openFrom(port: number, localAddress: string) {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  return { socket, closed, received: () => received };
}

/** A chat message from the victim's address, answered in full. */
function victimChat(port: number): Promise<number> {
  const body = JSON.stringify({ message: 'a torneira está pingando' });
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: '127.0.0.2',
        method: 'POST',
        path: '/api/v1/chat/message',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        agent: false,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

describe('HTTP limits', () => {
  let app: FastifyInstance;
  let store: MemorySessionStore;
  let port: number;
  before(async () => {
    ({ app, store } = await testApi({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_BODY_TIMEOUT_MS: '1000',
      HTTP_MAX_CONNECTIONS_PER_IP: '4',
    }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });
  after(async () => {
    await app.close();
  });

  it('cuts off a body sent a byte at a time, and serves others meanwhile', async () => {
    const slow = openFrom(port, '127.0.0.3');
    slow.socket.write(
      'POST /api/v1/chat/message HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 200\r\n\r\n{"message": "',
    );
    let dripping = true;
    const drip = async () => {
      while (dripping && !slow.socket.destroyed) {
        slow.socket.write('a');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const dripped = drip();
    assert.equal(await victimChat(port), 200, 'the victim is served while the slow body drips');
    await slow.closed;
    dripping = false;
    await dripped;
    assert.match(slow.received(), /^HTTP\/1\.1 408|^$/, 'timed out (408) or closed');
    assert.equal(store.size, 1, "only the victim's session was created");
  });

  it('cuts off headers that never end', async () => {
    const slow = openFrom(port, '127.0.0.4');
    slow.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    let dripping = true;
    const drip = async () => {
      while (dripping && !slow.socket.destroyed) {
        slow.socket.write('X-Slow: a\r\n');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const dripped = drip();
    await slow.closed;
    dripping = false;
    await dripped;
    assert.doesNotMatch(slow.received(), /healthy/);
  });

  it('refuses one address more than HTTP_MAX_CONNECTIONS_PER_IP connections, not the others', async () => {
    const held: Array<{ socket: Socket; closed: Promise<unknown> }> = [];
    try {
      for (let i = 0; i < 4; i++) {
        const connection = openFrom(port, '127.0.0.5');
        await once(connection.socket, 'connect');
        held.push(connection);
      }
      const extra = openFrom(port, '127.0.0.5');
      await extra.closed;
      assert.equal(extra.received(), '', 'closed without an answer');
      assert.equal(await victimChat(port), 200, 'another address is served');
      assert.ok(
        held.every(({ socket }) => !socket.destroyed),
        'the first four stay open',
      );
    } finally {
      for (const { socket } of held) socket.destroy();
    }
    // Once they are closed, the address may connect again.
    await until(async () => {
      const again = openFrom(port, '127.0.0.5');
      const answered = new Promise<boolean>((resolve) => {
        again.socket.on('data', () => resolve(true));
        again.socket.on('close', () => resolve(false));
      });
      again.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      return answered;
    }, 'the address to be served again');
  });

  it('keeps the idle timeout above LLM_TIMEOUT + 10 s, and bounds only the receipt of requests', () => {
    for (const seconds of ['1', '60', '120']) {
      const timeouts = httpTimeouts(testConfig({ LLM_TIMEOUT: seconds }));
      assert.ok(timeouts.connectionTimeout > Number(seconds) * 1000 + 10000, seconds);
    }
    // The server under test: LLM_TIMEOUT 60 s by default.
    assert.ok(app.server.timeout > 70000, String(app.server.timeout));
    assert.equal(app.server.headersTimeout, 1000);
    assert.equal(app.server.requestTimeout, 1000);
  });
});
