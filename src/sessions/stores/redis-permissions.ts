/**
 * Whether the ACL user may run every command the Redis store sends, asked of each master with
 * `ACL DRYRUN` (Redis 7.0 and later), which runs nothing. A server without it, or a user not
 * allowed to ask (`acl|dryrun` is an admin command), leaves the question open; refusals met
 * while running still show.
 */
import { ErrorReply } from '@redis/client';
import type { KeyspaceNode } from './redis-connection.js';
import * as scripts from './redis-scripts.js';

export type PermissionCheck =
  | { readonly checked: true; readonly missing: readonly string[] }
  | { readonly checked: false; readonly reason: string };

/** Every command the store sends (the scripts' own included), with arguments of the shape it
 * sends them, keys under its prefix, so that key patterns are checked too. */
export function storeCommands(sessionKey: string, quarantineKey: string): string[][] {
  return [
    ['GETRANGE', sessionKey, '0', '511'],
    ['GET', sessionKey],
    ['EXISTS', sessionKey],
    ['SET', sessionKey, 'value', 'EX', '60'],
    ['UNLINK', sessionKey],
    ['TTL', sessionKey],
    ['SCAN', '0'],
    ['EVALSHA', scripts.setIf.SHA1, '1', sessionKey],
    ['EVAL', 'return 0', '1', sessionKey],
    ['STRLEN', sessionKey],
    ['TYPE', sessionKey],
    ['RENAME', sessionKey, quarantineKey],
    ['PEXPIRE', quarantineKey, '1000'],
    ['INFO'],
    ['PING'],
  ];
}

/** Names of the commands `user` may not run (with these keys) on any of `nodes`. */
export async function checkPermissions(
  nodes: readonly KeyspaceNode[],
  user: string,
  commands: readonly string[][],
): Promise<PermissionCheck> {
  const missing = new Set<string>();
  for (const node of nodes) {
    let replies: unknown[];
    try {
      replies = await node.pipeline(commands.map((command) => ['ACL', 'DRYRUN', user, ...command]));
    } catch (error) {
      // An older server ("unknown subcommand"), or a user not allowed to ask (NOPERM).
      if (error instanceof ErrorReply) return { checked: false, reason: error.message };
      throw error;
    }
    // "OK", or a sentence naming the command or the key refused.
    replies.forEach((reply, i) => {
      if (reply !== 'OK') missing.add((commands[i]?.[0] ?? '?').toLowerCase());
    });
  }
  return { checked: true, missing: [...missing].sort() };
}
