/**
 * Key names of the Redis store. A quarantined value is moved with RENAME, which on a Cluster
 * needs both keys in one slot, so the quarantine key carries the session key as its hash tag.
 */

/** The part of a key that Redis Cluster hashes: the text of its first non-empty `{...}`, else
 * the whole key (the rule of the Cluster specification). */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * Where an unreadable value of session `id` is kept: `${prefix}corrupt:{${prefix}${id}}`, in
 * the session key's slot. A prefix with its own hash tag already puts every key under it in one
 * slot: then `${prefix}corrupt:${id}`. Either way the listing skips it (its suffix is not a
 * session id). A session id never holds a brace, so only the prefix decides.
 */
export function quarantineKey(keyPrefix: string, id: string): string {
  const key = `${keyPrefix}${id}`;
  if (hashTagOf(key) !== undefined || /[{}]/.test(keyPrefix)) return `${keyPrefix}corrupt:${id}`;
  return `${keyPrefix}corrupt:{${key}}`;
}

/**
 * Whether quarantineKey() shares the session key's slot for every id: false for a prefix with
 * braces that do not make a hash tag (`a{b:`, `x}:`), where no key under the prefix can.
 */
export function quarantineKeepsSlot(keyPrefix: string): boolean {
  return !/[{}]/.test(keyPrefix) || hashTagOf(`${keyPrefix}id`) !== undefined;
}
