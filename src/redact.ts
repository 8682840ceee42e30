/**
 * Addresses with their secrets hidden, for logs and messages: one module for every URL the
 * service is given (Redis, model servers, web search).
 */

/** Everything before the last "@" of a text that is not a URL may hold credentials. */
function blunt(url: string): string {
  const at = url.lastIndexOf('@');
  return at === -1 ? url : `***${url.slice(at)}`;
}

/** A URL that the parser read whole: no "@" after the host (a password holding "#", "?" or "/"
 * is split off as a fragment, query or path, and the blunt rule must apply). */
function parsedWhole(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname + parsed.search + parsed.hash;
    return parsed.hostname !== '' && !rest.includes('@') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Redis URL with its password shown as `***`. A user name alone (no password) is hidden too:
 * `redis://secret@host` puts a password in the user-name slot as often as it names an ACL user.
 */
export function redactRedisUrl(url: string): string {
  const parsed = parsedWhole(url);
  if (parsed === undefined) return blunt(url);
  if (parsed.password !== '') parsed.password = '***';
  else if (parsed.username !== '') parsed.username = '***';
  return parsed.href;
}

/** An http(s) address without its credentials, query or fragment. A value that is not a plain
 * http(s) URL keeps only what follows its last "@", up to any "?" or "#". */
export function redactUrl(url: string): string {
  const parsed = parsedWhole(url);
  if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = '***';
      parsed.password = '';
    }
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  }
  return blunt(url).split(/[?#]/, 1)[0] ?? '';
}
