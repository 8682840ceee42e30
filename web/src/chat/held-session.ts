/**
 * The session a browser keeps between visits: its id and token in localStorage, read back
 * checked (a value edited by hand or left by an older page is ignored), and new session ids.
 */
import type { HeldSession } from './chat-api.js';

/** The part of Web Storage this needs (localStorage in the page, a Map in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const SESSION_STORAGE_KEY = 'cql-agent.chat.session';

/** The server's rule for session ids. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function readHeldSession(storage: KeyValueStorage | undefined): HeldSession | null {
  try {
    const raw = storage?.getItem(SESSION_STORAGE_KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as { id?: unknown; token?: unknown };
    if (typeof value.id !== 'string' || !SESSION_ID.test(value.id)) return null;
    const token = typeof value.token === 'string' && value.token !== '' ? value.token : null;
    return { id: value.id, token };
  } catch {
    return null;
  }
}

/** Saves the session, or forgets it (null). Storage that refuses (full, blocked) is ignored:
 * the conversation goes on, it just will not survive a reload. */
export function writeHeldSession(
  storage: KeyValueStorage | undefined,
  session: HeldSession | null,
): void {
  try {
    if (session === null) storage?.removeItem(SESSION_STORAGE_KEY);
    else storage?.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
  } catch {
    // Nothing to do: see above.
  }
}
