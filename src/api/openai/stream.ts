/**
 * A streamed completion (server-sent events) that starts with its first piece: until then
 * nothing is sent, so a failure before it is still answered as an ordinary error with its
 * status. After it, a failure is a `data: {"error": ...}` chunk and the stream ends without
 * `[DONE]`, as OpenAI's own streams end.
 */
import type { FastifyReply } from 'fastify';
import { type EventStream, startEventStream } from '../sse.js';
import type { OpenAiErrorBody } from './errors.js';
import { type CompletionFrame, chunk } from './format.js';
import type { AgentInfo } from './schemas.js';

export class CompletionStream {
  readonly #reply: FastifyReply;
  readonly #frame: CompletionFrame;
  #events: EventStream | undefined;

  constructor(reply: FastifyReply, frame: CompletionFrame) {
    this.#reply = reply;
    this.#frame = frame;
  }

  /** Whether anything was sent: from then on, failures go into the stream. */
  get started(): boolean {
    return this.#events !== undefined;
  }

  /** One piece of the reply, as it is written. */
  delta(content: string): void {
    if (content === '') return;
    this.#open().send(undefined, chunk(this.#frame, { content }));
  }

  /** The last chunk (`finish_reason: "stop"`), `[DONE]`, and the end. */
  finish(agent?: AgentInfo): void {
    const events = this.#open();
    events.send(undefined, chunk(this.#frame, {}, 'stop', agent));
    events.sendRaw('[DONE]');
    events.end();
  }

  /** An error chunk and the end, without `[DONE]`. */
  fail(body: OpenAiErrorBody): void {
    const events = this.#open();
    events.send(undefined, body);
    events.end();
  }

  #open(): EventStream {
    if (this.#events === undefined) {
      this.#events = startEventStream(this.#reply);
      this.#events.send(undefined, chunk(this.#frame, { role: 'assistant', content: '' }));
    }
    return this.#events;
  }
}
