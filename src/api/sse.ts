/**
 * Server-sent events on a hijacked Fastify reply: the headers once, then events and, every 15 s
 * while nothing else is sent, a comment line that keeps proxies from closing a slow stream. A
 * client that goes away is not an error: what is sent after that is dropped.
 */
import type { FastifyReply } from 'fastify';

/** Seconds of silence after which a comment line is sent. */
export const KEEP_ALIVE_MS = 15000;

export interface EventStream {
  /** `event: <name>` (omitted when undefined) and one `data:` line of JSON. */
  send(event: string | undefined, data: unknown): void;
  /** A `data:` line as it is (OpenAI's `data: [DONE]`). */
  sendRaw(data: string): void;
  /** Whether the client is still there. */
  readonly open: boolean;
  end(): void;
}

/** Starts the stream: 200, text/event-stream, no buffering by proxies. `headers` are added
 * (CORS headers already set on the reply are kept). */
export function startEventStream(
  reply: FastifyReply,
  headers: Record<string, string> = {},
  keepAliveMs = KEEP_ALIVE_MS,
): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
    ...headers,
  });
  raw.flushHeaders();
  let ended = false;
  const write = (text: string) => {
    if (ended || raw.destroyed || raw.writableEnded) return;
    raw.write(text);
    timer.refresh();
  };
  const timer = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  raw.on('close', stop);
  return {
    send(event, data) {
      write(`${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
    },
    sendRaw(data) {
      write(`data: ${data}\n\n`);
    },
    get open() {
      return !ended && !raw.destroyed;
    },
    end() {
      stop();
      if (!ended && !raw.writableEnded) raw.end();
      ended = true;
    },
  };
}
