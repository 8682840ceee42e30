/**
 * Server-sent events read from a fetch() body (EventSource cannot POST): text in, events out,
 * whatever the chunk boundaries. Pure, after the WHATWG "event stream interpretation".
 */

export interface SseEvent {
  /** `message` when the event names none. */
  event: string;
  data: string;
}

export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];

  /** Feeds a chunk of text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
      if (match === null || (match[0] === '\r' && match.index === this.#buffer.length - 1)) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The end of the stream: an event not closed by a blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.#buffer = '';
    this.#event = '';
    this.#data = [];
    return [];
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined; // a comment: keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const event = { event: this.#event || 'message', data: this.#data.join('\n') };
    const complete = this.#data.length > 0;
    this.#event = '';
    this.#data = [];
    return complete ? event : undefined;
  }
}
