/** What a language model provider is to the rest of the agent: messages in, reply text out. */
import { UpstreamError } from './errors.js';

export interface LlmMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ModelReply {
  /** The reply, never empty. */
  readonly text: string;
  /** True when the model stopped at its length limit (max tokens): the text is kept, but it
   * may end mid-sentence. */
  readonly truncated: boolean;
  /** Characters of clean text received, when a streamed reply passed `maxChars` and `text` was
   * cut (the rest was not read). */
  readonly received?: number;
}

export interface CompleteOptions {
  /** A shorter deadline than the model's own for this call (what is left of a turn's time). */
  readonly timeoutMs?: number;
  /** Aborting it cancels the call, which then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * How a streamed reply is read. Deadlines: until the first piece of text, `timeoutMs` (the wait
 * a whole reply would have); then the server may stay silent at most `idleTimeoutMs` at a time,
 * and the whole call lasts at most `maxDurationMs`.
 */
export interface StreamOptions extends CompleteOptions {
  /**
   * Receives the reply's text as it arrives, cleaned as `complete` cleans a whole reply
   * (reasoning blocks removed, no blanks around it): pieces never empty, never taken back, whose
   * concatenation is the `text` the call resolves with. An exception it throws ends the call
   * (the connection is closed) with that exception.
   */
  readonly onText: (text: string) => void;
  /** After the first piece of text: the longest silence of the server. @default the model's
   * own timeout */
  readonly idleTimeoutMs?: number;
  /** After the first piece of text: the whole call, counted from its start. @default no limit
   * other than the silences */
  readonly maxDurationMs?: number;
  /** A longer reply is cut where `boundReply` cuts it, and the rest is not read.
   * @default no limit */
  readonly maxChars?: number;
}

/** One provider's chat endpoint, bound to one model. */
export interface ChatModel {
  /** "ollama" or "openai". */
  readonly provider: string;
  /** The model asked, e.g. "qwen2.5:3b". */
  readonly model: string;
  /** The model's whole reply. Throws UpstreamError on any failure, an empty reply included. */
  complete(messages: readonly LlmMessage[], options?: CompleteOptions): Promise<ModelReply>;
  /** The model's reply, passed to `options.onText` as it is written, then resolved whole.
   * Throws UpstreamError on any failure (an empty reply included), before or after text was
   * passed on. */
  stream(messages: readonly LlmMessage[], options: StreamOptions): Promise<ModelReply>;
}

/** Sampling temperature of the original assistant: steady, few surprises. */
export const DEFAULT_TEMPERATURE = 0.3;

/** Longest reply asked of the model, in tokens (LLM_MAX_TOKENS). */
export const DEFAULT_MAX_TOKENS = 1024;

/** Longest reply kept, in characters: a longer one is cut before it is stored. */
export const MAX_REPLY_CHARS = 8000;

/** The call's deadline: the model's own, or a shorter one given for this call. */
export function callTimeout(ownMs: number, options: CompleteOptions | undefined): number {
  const given = options?.timeoutMs;
  return given === undefined ? ownMs : Math.max(1, Math.min(ownMs, Math.floor(given)));
}

/**
 * The reply without a reasoning block or surrounding blanks; an empty result is an error, never
 * a reply. Some models write their reasoning first, in `<think>...</think>`: closed blocks are
 * removed, an unclosed one (the model stopped while thinking) is removed up to the end, and a
 * closing tag without its opening one (a chat template that opens the block itself) removes
 * everything before it.
 */
export function replyText(content: string, provider: string, why?: string): string {
  let text = content.replace(/<think>[\s\S]*?<\/think>/g, '');
  const open = text.indexOf('<think>');
  if (open !== -1) text = text.slice(0, open);
  const close = text.lastIndexOf('</think>');
  if (close !== -1) text = text.slice(close + '</think>'.length);
  text = text.trim();
  if (text === '') {
    const reason = why === undefined ? '' : ` (${why})`;
    throw new UpstreamError('empty', provider, `the model answered with no text${reason}`);
  }
  return text;
}

/**
 * `text` cut to at most `max` characters, at the last paragraph break, else at the last end of
 * a sentence, else at the last blank, of its second half; nothing is added to mark the cut.
 */
export function boundReply(text: string, max = MAX_REPLY_CHARS): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const floor = Math.floor(max / 2);
  const paragraph = head.lastIndexOf('\n\n');
  if (paragraph >= floor) return head.slice(0, paragraph).trimEnd();
  let sentence = -1;
  for (const match of head.matchAll(/[.!?…](?=\s)/g)) sentence = match.index + 1;
  // The sentence's end may be the very last character of the head.
  if (/[.!?…]$/.test(head) && /^\s/.test(text.slice(max))) sentence = max;
  if (sentence >= floor) return head.slice(0, sentence).trimEnd();
  const blank = head.search(/\s\S*$/);
  if (blank >= floor) return head.slice(0, blank).trimEnd();
  return head.trimEnd();
}

/** What every chat model's endpoint is configured with. */
export interface ModelOptions {
  /** The server's address (the provider's option says up to where). */
  baseUrl: string;
  /** e.g. "qwen2.5:3b". */
  model: string;
  /** A whole reply: the whole request, reading the reply included. A streamed reply: until its
   * first piece of text, then the longest silence between two pieces. */
  timeoutMs: number;
  /** @default 0.3 */
  temperature?: number;
  /** Longest reply, in tokens. @default 1024 */
  maxTokens?: number;
}

/** ModelOptions with the defaults applied and the endpoint's address built. */
export interface EndpointSettings {
  readonly url: string;
  readonly timeoutMs: number;
  readonly temperature: number;
  readonly maxTokens: number;
}

export function endpointSettings(options: ModelOptions, path: string): EndpointSettings {
  return {
    url: endpoint(options.baseUrl, path),
    timeoutMs: options.timeoutMs,
    temperature: options.temperature ?? DEFAULT_TEMPERATURE,
    maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
  };
}

/** `base` and `path` joined with exactly one slash. */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}
