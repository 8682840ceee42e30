/**
 * Which session a chat-completions request continues, and the token that opens it. Both are
 * HMAC-SHA256 under the caller's API key, so one key never reaches another key's conversations,
 * and a chat-API client, which cannot derive the token, never reaches them either. Ids start
 * with `oai-`: a namespace of their own, apart from the chat API's.
 */
import { createHmac } from 'node:crypto';

export const SESSION_PREFIX = 'oai-';

/** Hex characters of the digest kept in the id (160 bits). */
const ID_HEX_CHARS = 40;

/** The header Open WebUI adds to its requests (with ENABLE_FORWARD_USER_INFO_HEADERS=true). */
export const CHAT_ID_HEADER = 'x-openwebui-chat-id';

/**
 * What named the conversation, first found first:
 * - `chat_id`: the client's chat id (the X-OpenWebUI-Chat-Id header);
 * - `metadata`: an explicit `metadata.session_id` in the body;
 * - `user`: the `user` field with the conversation's first user message;
 * - `opening`: the first user message alone (two identical openings share a session).
 */
export type ConversationSource = 'chat_id' | 'metadata' | 'user' | 'opening';

export interface ConversationClues {
  chatId?: string | undefined;
  metadataSessionId?: string | undefined;
  user?: string | undefined;
  /** The first user message. */
  opening: string;
}

export interface ConversationKey {
  source: ConversationSource;
  /** What is hashed, after the source. */
  parts: readonly string[];
}

const present = (value: string | undefined): value is string =>
  value !== undefined && value.trim() !== '';

export function conversationKey(clues: ConversationClues): ConversationKey {
  if (present(clues.chatId)) return { source: 'chat_id', parts: [clues.chatId] };
  if (present(clues.metadataSessionId)) {
    return { source: 'metadata', parts: [clues.metadataSessionId] };
  }
  if (present(clues.user)) return { source: 'user', parts: [clues.user, clues.opening] };
  return { source: 'opening', parts: [clues.opening] };
}

const hmac = (apiKey: string, text: string) => createHmac('sha256', apiKey).update(text);

/** `oai-` and 40 hex characters: the same key and conversation give the same id. */
export function sessionIdFor(apiKey: string, key: ConversationKey): string {
  // JSON keeps the parts apart: ["a b", "c"] and ["a", "b c"] never hash alike.
  const named = JSON.stringify(['session', key.source, ...key.parts]);
  return SESSION_PREFIX + hmac(apiKey, named).digest('hex').slice(0, ID_HEX_CHARS);
}

/** The token the session is created with and opened by, on every request. */
export function sessionTokenFor(apiKey: string, sessionId: string): string {
  return hmac(apiKey, JSON.stringify(['token', sessionId])).digest('base64url');
}
