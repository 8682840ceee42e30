/** An OpenAI-compatible chat endpoint (`POST {base}/chat/completions`): OpenAI itself, vLLM,
 * LM Studio, llama.cpp's server... Without streaming: one JSON answer. */
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

export interface OpenAiOptions {
  /** Address up to the API version, e.g. "https://api.openai.com/v1", "http://localhost:8000/v1". */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`; local servers usually need none. @default none */
  apiKey?: string;
  /** The whole request, reading the reply included. */
  timeoutMs: number;
  /** @default 0.3 */
  temperature?: number;
  /** Longest reply, in tokens (sent as `max_tokens`). @default 1024 */
  maxTokens?: number;
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
  readonly #url: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #temperature: number;
  readonly #maxTokens: number;

  constructor(options: OpenAiOptions) {
    this.model = options.model;
    this.#url = endpoint(options.baseUrl, 'chat/completions');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs;
    this.#temperature = options.temperature ?? DEFAULT_TEMPERATURE;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  }

  async complete(messages: readonly LlmMessage[], options?: CompleteOptions): Promise<ModelReply> {
    const body = await requestJson(this.#url, {
      service: this.provider,
      timeoutMs: callTimeout(this.#timeoutMs, options),
      headers: this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` },
      secrets: this.#apiKey === undefined ? [] : [this.#apiKey],
      body: {
        model: this.model,
        messages,
        stream: false,
        temperature: this.#temperature,
        max_tokens: this.#maxTokens,
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
