/** An OpenAI-compatible chat endpoint (`POST {base}/chat/completions`): OpenAI itself, vLLM,
 * LM Studio, llama.cpp's server... One JSON answer (`stream: false`), or the reply as it is
 * written (`stream: true`: server-sent events, `data: [DONE]` at the end). */
import { z } from 'zod';
import { redactUrl } from '../../redact.js';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import { type StreamedAnswer, serverSentEvents } from './http-stream.js';
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
  type StreamOptions,
} from './model.js';
import { parseLine, type ReplyPiece, reportedError, streamReply } from './model-stream.js';

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

/** One event of a streamed answer: a piece of the reply (`choices[0].delta.content`), its end
 * (`finish_reason`), usage figures (no choices), or an error. */
const openAiChunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .optional(),
  error: z.unknown().optional(),
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
    const { url, timeoutMs } = this.#endpoint;
    const body = await requestJson(url, {
      service: this.provider,
      timeoutMs: callTimeout(timeoutMs, options),
      headers: this.#headers(),
      secrets: this.#secrets(),
      body: this.#body(messages, false),
      signal: options?.signal,
    });
    return this.#whole(body);
  }

  stream(messages: readonly LlmMessage[], options: StreamOptions): Promise<ModelReply> {
    const { url, timeoutMs } = this.#endpoint;
    const provider = this.provider;
    const shownUrl = redactUrl(url);
    const secrets = this.#secrets();
    const whole = (body: unknown) => this.#whole(body);
    async function* pieces(answer: StreamedAnswer): AsyncGenerator<ReplyPiece> {
      if (answer.contentType.includes('application/json')) {
        // A server that does not stream answered with the whole reply.
        const lines: string[] = [];
        for await (const line of answer.lines()) lines.push(line);
        const reply = whole(parseLine(lines.join('\n'), provider, secrets));
        yield { text: reply.text, finish: reply.truncated ? 'length' : 'stop' };
        return;
      }
      for await (const event of serverSentEvents(answer.lines())) {
        if (event.data === '[DONE]') {
          yield { text: '', finish: 'stop' };
          return;
        }
        const chunk = openAiChunk.safeParse(parseLine(event.data, provider, secrets));
        if (!chunk.success) {
          throw new UpstreamError('malformed', provider, 'streamed an event of another shape', {
            url: shownUrl,
          });
        }
        const { choices, error } = chunk.data;
        if (error !== undefined || event.event === 'error') {
          throw reportedError(provider, error ?? event.data, shownUrl, secrets);
        }
        const choice = choices?.[0];
        if (choice === undefined) continue;
        const text = choice.delta?.content ?? '';
        const finish = choice.finish_reason ?? undefined;
        yield finish === undefined ? { text } : { text, finish };
      }
    }
    return streamReply(
      {
        provider,
        url,
        timeoutMs,
        body: this.#body(messages, true),
        headers: this.#headers(),
        secrets,
        pieces,
      },
      options,
    );
  }

  #whole(body: unknown): ModelReply {
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

  #body(messages: readonly LlmMessage[], stream: boolean) {
    const { temperature, maxTokens } = this.#endpoint;
    return { model: this.model, messages, stream, temperature, max_tokens: maxTokens };
  }

  #headers(): Record<string, string> {
    return this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` };
  }

  #secrets(): string[] {
    return this.#apiKey === undefined ? [] : [this.#apiKey];
  }
}
