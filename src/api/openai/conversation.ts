/**
 * What this service reads of a chat client's message list: the last user message (the turn),
 * the first one (the conversation's opening, which names it when nothing else does), and how
 * many user messages there are (one: the conversation starts over).
 */

import { validation } from '../../texts/api.js';
import { openaiErrors } from '../../texts/openai.js';
import { chatRequest, MAX_MESSAGE_LENGTH } from '../routes/chat.js';
import { OpenAiError } from './errors.js';
import type { ChatMessageInput } from './schemas.js';

export interface Conversation {
  /** The text of the last user message, as sent: what this turn answers. */
  readonly last: string;
  /** Where the last user message is in the list. */
  readonly lastIndex: number;
  /** The first user message, trimmed. */
  readonly opening: string;
  readonly userMessages: number;
}

/** A message's text: a string, or its text parts joined by line breaks. */
export function textOf(message: ChatMessageInput): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}

/** The last user message as the turn of a conversation, trimmed: it must pass the chat API's
 * rules for a message (OpenAiError 400 naming the message otherwise). */
export function turnOf({ last, lastIndex: index }: Conversation): string {
  const param = `messages.${index}.content`;
  const result = chatRequest.shape.message.safeParse(last);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const sentence =
    issue?.code === 'too_big'
      ? validation.tooLong('message', MAX_MESSAGE_LENGTH)
      : issue?.code === 'too_small'
        ? openaiErrors.noText(index)
        : (issue?.message ?? validation.invalid('message'));
  throw new OpenAiError(400, sentence, { code: 'invalid_value', param });
}

/** Reads the message list; OpenAiError 400 when it has no user message with text. */
export function readConversation(messages: readonly ChatMessageInput[]): Conversation {
  const users = messages.flatMap((message, index) => (message.role === 'user' ? [index] : []));
  const first = users[0];
  const last = users.at(-1);
  if (first === undefined || last === undefined) {
    throw new OpenAiError(400, openaiErrors.noUserMessage, {
      code: 'invalid_value',
      param: 'messages',
    });
  }
  return {
    last: textOf(messages[last] as ChatMessageInput),
    lastIndex: last,
    opening: textOf(messages[first] as ChatMessageInput).trim(),
    userMessages: users.length,
  };
}
