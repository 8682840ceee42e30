/** Ollama's chat endpoint (`POST /api/chat`), without streaming: one JSON answer. */
import { z } from 'zod';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import {
  type ChatModel,
  type CompleteOptions,
  callTimeout,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TEMPERATURE,
  endpoint,
  type LlmMessage,
  type ModelReply,
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
  /** Longest reply, in tokens (sent as `options.num_predict`). @default 1024 */
  maxTokens?: number;
}

const ollamaReply = z.object({
  message: z.object({ content: z.string() }),
  done: z.boolean().optional(),
  /** "stop", or "length" when num_predict cut the reply. */
  done_reason: z.string().nullish(),
});

export class OllamaChatModel implements ChatModel {
  readonly provider = 'ollama';
  readonly model: string;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #temperature: number;
  readonly #maxTokens: number;

  constructor(options: OllamaOptions) {
    this.model = options.model;
    this.#url = endpoint(options.baseUrl, 'api/chat');
    this.#timeoutMs = options.timeoutMs;
    this.#temperature = options.temperature ?? DEFAULT_TEMPERATURE;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  }

  async complete(messages: readonly LlmMessage[], options?: CompleteOptions): Promise<ModelReply> {
    const body = await requestJson(this.#url, {
      service: this.provider,
      timeoutMs: callTimeout(this.#timeoutMs, options),
      body: {
        model: this.model,
        messages,
        stream: false,
        options: { temperature: this.#temperature, num_predict: this.#maxTokens },
      },
    });
    const parsed = ollamaReply.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamError('malformed', this.provider, 'answered without message.content');
    }
    if (parsed.data.done === false) {
      throw new UpstreamError('malformed', this.provider, 'answered an unfinished reply');
    }
    return {
      text: replyText(parsed.data.message.content, this.provider),
      truncated: parsed.data.done_reason === 'length',
    };
  }
}
