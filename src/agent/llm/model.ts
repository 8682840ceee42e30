/** What a language model provider is to the rest of the agent: messages in, reply text out. */
import { UpstreamError } from './errors.js';

export interface LlmMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One provider's chat endpoint, bound to one model. */
export interface ChatModel {
  /** "ollama" or "openai". */
  readonly provider: string;
  /** The model asked, e.g. "qwen2.5:3b". */
  readonly model: string;
  /** The model's whole reply, never empty. Throws UpstreamError on any failure. */
  complete(messages: readonly LlmMessage[]): Promise<string>;
}

/** Sampling temperature of the original assistant: steady, few surprises. */
export const DEFAULT_TEMPERATURE = 0.3;

/** The reply without a reasoning block (`<think>...</think>`, which some models write first)
 * or surrounding blanks; an empty result is an error, never a reply. */
export function replyText(content: string, provider: string): string {
  const text = content.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  if (text === '') throw new UpstreamError('empty', provider, 'the model answered with no text');
  return text;
}

/** `base` and `path` joined with exactly one slash. */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}
