/** An OpenAI-compatible chat endpoint (`POST {base}/chat/completions`): OpenAI itself, vLLM,
 * LM Studio, llama.cpp's server... Without streaming: one JSON answer. */
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

/** `baseUrl` is the address up to the API version, e.g. "https://api.openai.com/v1" or
 * "http://localhost:8000/v1"; `maxTokens` is sent as `max_tokens`. */
export interface OpenAiOptions extends ModelOptions {
  /** Sent as `Authorization: Bearer <key>`; local servers usually need none. @default none */
  apiKey?: string;
}

const openAiReply = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        /** "stop"; "length" when max_tokens cut the reply; "content_filter" when the server's
         * filter withheld it. */
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
});

export class OpenAiChatModel implements ChatModel {
  readonly provider = 'openai';
  readonly model: string;
  readonly #endpoint: EndpointSettings;
  readonly #apiKey: string | undefined;

  constructor(options: OpenAiOptions) {
    this.model = options.model;
    this.#endpoint = endpointSettings(options, 'chat/completions');
    this.#apiKey = options.apiKey;
  }

  async complete(messages: readonly LlmMessage[], options?: CompleteOptions): Promise<ModelReply> {
    const { url, timeoutMs, temperature, maxTokens } = this.#endpoint;
    const body = await requestJson(url, {
      service: this.provider,
      timeoutMs: callTimeout(timeoutMs, options),
      headers: this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` },
      secrets: this.#apiKey === undefined ? [] : [this.#apiKey],
      body: {
        model: this.model,
        messages,
        stream: false,
        temperature,
        max_tokens: maxTokens,
      },
    });
    const parsed = openAiReply.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamError('malformed', this.provider, 'answered without choices[0].message');
    }
    const choice = parsed.data.choices[0];
    const finish = choice?.finish_reason ?? undefined;
    const text = replyText(
      choice?.message.content ?? '',
      this.provider,
      finish === 'content_filter' ? 'withheld by the content filter' : undefined,
    );
    return { text, truncated: finish === 'length' };
  }
}
