/** Ollama's chat endpoint (`POST /api/chat`), without streaming: one JSON answer. */
import { z } from 'zod';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import {
  type ChatModel,
  type CompleteOptions,
  callTimeout,
  type EndpointSettings,
  endpointSettings,
  type LlmMessage,
  type ModelOptions,
  type ModelReply,
  replyText,
} from './model.js';

/** `baseUrl` is the server's address, e.g. "http://localhost:11434"; `maxTokens` is sent as
 * `options.num_predict`. */
export type OllamaOptions = ModelOptions;

const ollamaReply = z.object({
  message: z.object({ content: z.string() }),
  done: z.boolean().optional(),
  /** "stop", or "length" when num_predict cut the reply. */
  done_reason: z.string().nullish(),
});

export class OllamaChatModel implements ChatModel {
  readonly provider = 'ollama';
  readonly model: string;
  readonly #endpoint: EndpointSettings;

  constructor(options: OllamaOptions) {
    this.model = options.model;
    this.#endpoint = endpointSettings(options, 'api/chat');
  }

  async complete(messages: readonly LlmMessage[], options?: CompleteOptions): Promise<ModelReply> {
    const { url, timeoutMs, temperature, maxTokens } = this.#endpoint;
    const body = await requestJson(url, {
      service: this.provider,
      timeoutMs: callTimeout(timeoutMs, options),
      body: {
        model: this.model,
        messages,
        stream: false,
        options: { temperature, num_predict: maxTokens },
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
