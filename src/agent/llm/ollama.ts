/** Ollama's chat endpoint (`POST /api/chat`), without streaming: one JSON answer. */
import { z } from 'zod';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import {
  type ChatModel,
  DEFAULT_TEMPERATURE,
  endpoint,
  type LlmMessage,
  replyText,
} from './model.js';

export interface OllamaOptions {
  /** Server address, e.g. "http://localhost:11434". */
  baseUrl: string;
  /** e.g. "qwen2.5:3b". */
  model: string;
  /** The whole request, reading the reply included. */
  timeoutMs: number;
  /** @default 0.3 */
  temperature?: number;
}

const ollamaReply = z.object({
  message: z.object({ content: z.string() }),
  done: z.boolean().optional(),
});

export class OllamaChatModel implements ChatModel {
  readonly provider = 'ollama';
  readonly model: string;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #temperature: number;

  constructor(options: OllamaOptions) {
    this.model = options.model;
    this.#url = endpoint(options.baseUrl, 'api/chat');
    this.#timeoutMs = options.timeoutMs;
    this.#temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  }

  async complete(messages: readonly LlmMessage[]): Promise<string> {
    const body = await requestJson(this.#url, {
      service: this.provider,
      timeoutMs: this.#timeoutMs,
      body: {
        model: this.model,
        messages,
        stream: false,
        options: { temperature: this.#temperature },
      },
    });
    const parsed = ollamaReply.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamError('malformed', this.provider, 'answered without message.content');
    }
    if (parsed.data.done === false) {
      throw new UpstreamError('malformed', this.provider, 'answered an unfinished reply');
    }
    return replyText(parsed.data.message.content, this.provider);
  }
}
