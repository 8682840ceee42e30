/**
 * Listing cursors name the store that issued them: `memory:<last id listed>` for the memory
 * store, `redis:<node address>:<that node's SCAN cursor>` for Redis. A store given a cursor it
 * did not issue (another backend's, a node's that is no longer a master, one from before a
 * failover, or no store's at all) starts its listing over from the beginning instead of misreading
 * it: the listing stays complete, with repeats, as Redis's SCAN already allows.
 */

export type ListCursor =
  | { readonly store: 'memory'; readonly after: string }
  | { readonly store: 'redis'; readonly node: string; readonly scan: string };

export function memoryCursor(after: string): string {
  return `memory:${after}`;
}

export function redisCursor(node: string, scan: string): string {
  return `redis:${node}:${scan}`;
}

/** What a cursor says; undefined for one no store issues (then a listing starts over). */
export function readCursor(cursor: string): ListCursor | undefined {
  if (cursor.startsWith('memory:') && cursor.length > 'memory:'.length) {
    return { store: 'memory', after: cursor.slice('memory:'.length) };
  }
  if (cursor.startsWith('redis:')) {
    // The address may hold colons itself (IPv6): the SCAN cursor is after the last one.
    const rest = cursor.slice('redis:'.length);
    const colon = rest.lastIndexOf(':');
    const scan = rest.slice(colon + 1);
    if (colon > 0 && /^\d+$/.test(scan)) {
      return { store: 'redis', node: rest.slice(0, colon), scan };
    }
  }
  return undefined;
}

/** For logs: a cursor a store will not continue, shortened. */
export function describeCursor(cursor: string): string {
  return cursor.length <= 80 ? cursor : `${cursor.slice(0, 80)}...`;
}
