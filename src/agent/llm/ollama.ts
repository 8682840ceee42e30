/** Ollama's chat endpoint (`POST /api/chat`): one JSON answer (`stream: false`), or the reply as
 * it is written (`stream: true`: one JSON object per line). */
import { z } from 'zod';
import { redactUrl } from '../../redact.js';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import type { StreamedAnswer } from './http-stream.js';
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

/** `baseUrl` is the server's address, e.g. "http://localhost:11434"; `maxTokens` is sent as
 * `options.num_predict`. */
export type OllamaOptions = ModelOptions;

const ollamaReply = z.object({
  message: z.object({ content: z.string() }),
  done: z.boolean().optional(),
  /** "stop", or "length" when num_predict cut the reply. */
  done_reason: z.string().nullish(),
});

/** One line of a streamed answer: a piece of the reply, the last one (`done`), or an error. */
const ollamaChunk = z.object({
  message: z.object({ content: z.string() }).optional(),
  done: z.boolean().optional(),
  done_reason: z.string().nullish(),
  error: z.unknown().optional(),
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
    const { url, timeoutMs } = this.#endpoint;
    const body = await requestJson(url, {
      service: this.provider,
      timeoutMs: callTimeout(timeoutMs, options),
      body: this.#body(messages, false),
      signal: options?.signal,
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

  stream(messages: readonly LlmMessage[], options: StreamOptions): Promise<ModelReply> {
    const { url, timeoutMs } = this.#endpoint;
    const provider = this.provider;
    const shownUrl = redactUrl(url);
    async function* pieces(answer: StreamedAnswer): AsyncGenerator<ReplyPiece> {
      for await (const line of answer.lines()) {
        if (line.trim() === '') continue;
        const chunk = ollamaChunk.safeParse(parseLine(line, provider, []));
        if (!chunk.success) {
          throw new UpstreamError('malformed', provider, 'streamed a line of another shape', {
            url: shownUrl,
          });
        }
        const { message, done, done_reason, error } = chunk.data;
        if (error !== undefined) throw reportedError(provider, error, shownUrl, []);
        const text = message?.content ?? '';
        yield done === true ? { text, finish: done_reason ?? 'stop' } : { text };
      }
    }
    return streamReply(
      { provider, url, timeoutMs, body: this.#body(messages, true), pieces },
      options,
    );
  }

  #body(messages: readonly LlmMessage[], stream: boolean) {
    const { temperature, maxTokens } = this.#endpoint;
    return {
      model: this.model,
      messages,
      stream,
      options: { temperature, num_predict: maxTokens },
    };
  }
}
