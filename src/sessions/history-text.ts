/**
 * The stored JSON text of conversations already read or written, so that saving a conversation
 * serializes only the messages added since: a turn adds two messages to twenty, and the other
 * eighteen are written as the text they were read from. Messages are immutable objects; a
 * history is known by its messages themselves (identity, not content), so a text is never used
 * for another conversation, or for one changed otherwise than by appending.
 *
 * The text hangs from the last message of its history, under a private symbol that neither
 * JSON nor a listing of its keys shows. (A WeakMap would do the same, but every entry it holds
 * makes the young generation's collections slower: about 15 µs per load, amortized.)
 */
import type { ChatMessage } from '../agent/types.js';

interface KnownHistory {
  /** The messages, in order (a copy: the caller's array may change). */
  readonly messages: readonly ChatMessage[];
  /** Their JSON array, exactly as stored. */
  readonly json: string;
}

const KNOWN = Symbol('stored history');

type Carrier = ChatMessage & { [KNOWN]?: KnownHistory };

/** Remembers that `json` is the JSON array of `messages` (nothing for an empty history, or one
 * whose last message cannot take a property). */
export function rememberHistory(messages: readonly ChatMessage[], json: string): void {
  const last = messages[messages.length - 1];
  if (last === undefined || !Object.isExtensible(last)) return;
  Object.defineProperty(last, KNOWN, {
    value: { messages: messages.slice(), json },
    configurable: true,
    writable: true,
  });
}

/** The JSON array of `messages`, reusing the text of a known history they start with. */
export function historyJson(messages: readonly ChatMessage[]): string {
  const prefix = knownPrefix(messages);
  if (prefix?.messages.length === messages.length) return prefix.json;
  let json: string;
  if (prefix === undefined) {
    json = JSON.stringify(messages);
  } else {
    const added = JSON.stringify(messages.slice(prefix.messages.length));
    json = `${prefix.json.slice(0, -1)},${added.slice(1)}`;
  }
  rememberHistory(messages, json);
  return json;
}

/** The longest known history that `messages` starts with, found from its last message back. */
function knownPrefix(messages: readonly ChatMessage[]): KnownHistory | undefined {
  for (let end = messages.length; end > 0; end--) {
    const history = (messages[end - 1] as Carrier | null | undefined)?.[KNOWN];
    if (history === undefined) continue;
    if (history.messages.length !== end) return undefined;
    for (let i = 0; i < end - 1; i++) {
      if (history.messages[i] !== messages[i]) return undefined;
    }
    return history;
  }
  return undefined;
}
