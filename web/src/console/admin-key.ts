/**
 * The admin key of this browser tab: typed in, or given in the link `/console#key=...` (read
 * once, then taken out of the address bar), and kept in sessionStorage, which dies with the tab.
 */
import type { KeyValueStorage } from '../chat/held-session.js';

export const ADMIN_KEY_STORAGE = 'cql-agent.console.key';

/** The key in a fragment like "#key=abc" (other parts kept as written), and the fragment
 * without it. */
export function keyFromFragment(hash: string): { key: string | undefined; rest: string } {
  let key: string | undefined;
  const kept = hash
    .replace(/^#/, '')
    .split('&')
    .filter((part) => {
      if (!part.startsWith('key=')) return part !== '';
      key = decoded(part.slice('key='.length)).trim() || undefined;
      return false;
    });
  return { key, rest: kept.length === 0 ? '' : `#${kept.join('&')}` };
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function readKey(storage: KeyValueStorage | undefined): string | undefined {
  try {
    return storage?.getItem(ADMIN_KEY_STORAGE) || undefined;
  } catch {
    return undefined;
  }
}

export function writeKey(storage: KeyValueStorage | undefined, key: string | undefined): void {
  try {
    if (key === undefined) storage?.removeItem(ADMIN_KEY_STORAGE);
    else storage?.setItem(ADMIN_KEY_STORAGE, key);
  } catch {
    // A blocked storage only means signing in again after a reload.
  }
}
