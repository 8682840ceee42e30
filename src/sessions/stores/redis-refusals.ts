/**
 * What Redis refuses the store while answering it: writes for lack of memory (maxmemory with
 * noeviction), commands or keys the ACL user lacks. A store in that state is connected but
 * degraded; this says why, for /health.
 */
import type { StoreDegradedReason } from '../types.js';
import type { PermissionCheck } from './redis-permissions.js';

export interface Refusal {
  readonly degradedReason: StoreDegradedReason;
  readonly degradedDetail: string;
}

/** Redis's refusal of a command the ACL user lacks: a plain NOPERM, or the script's wording
 * when a command called from a script was refused. */
const NOPERM = /^NOPERM|user executing the script can't/;
const OOM = /\bOOM\b/;

export type RefusalKind = 'oom' | 'noperm';

export class RedisRefusals {
  /** Redis's OOM message, from the last write it refused; cleared by a write it accepts. */
  #oom: string | undefined;
  /** Commands ACL DRYRUN found missing (the last check). */
  #lacking: readonly string[] = [];
  /** Operation -> what Redis said, for each operation last refused at run time. */
  readonly #refused = new Map<string, string>();

  /** Which refusal an error reply is, if any, and whether it is new; remembered until cleared. */
  noteError(operation: string, message: string): { kind: RefusalKind; first: boolean } | undefined {
    if (OOM.test(message)) {
      const first = this.#oom === undefined;
      this.#oom = message;
      return { kind: 'oom', first };
    }
    if (NOPERM.test(message)) {
      const first = !this.#refused.has(operation);
      this.#refused.set(operation, message);
      return { kind: 'noperm', first };
    }
    return undefined;
  }

  /** `operation` succeeded: what refused it before is allowed now; `wrote`: Redis took a write. */
  noteSuccess(operation: string, wrote: boolean): void {
    if (this.#refused.size > 0) this.#refused.delete(operation);
    if (wrote) this.#oom = undefined;
  }

  /** The result of an ACL DRYRUN check: when it ran and found nothing missing, refusals seen
   * at run time are past (the ACL was fixed). */
  noteCheck(check: PermissionCheck): void {
    if (!check.checked) return;
    this.#lacking = check.missing;
    if (check.missing.length === 0) this.#refused.clear();
  }

  get current(): Refusal | undefined {
    if (this.#lacking.length > 0 || this.#refused.size > 0) {
      const named = [...this.#refused.values()].map(commandNamed);
      const commands = new Set([...this.#lacking, ...named.filter((n) => n !== undefined)]);
      const unnamed = [...this.#refused].filter((_, i) => named[i] === undefined);
      const parts = [
        ...(commands.size > 0
          ? [`commands refused to the ACL user: ${[...commands].join(', ')}`]
          : []),
        ...unnamed.map(([operation, message]) => `${operation}: ${message.slice(0, 200)}`),
      ];
      return { degradedReason: 'redis_noperm', degradedDetail: parts.join('; ') };
    }
    if (this.#oom !== undefined) {
      return { degradedReason: 'redis_oom', degradedDetail: this.#oom.slice(0, 200) };
    }
    return undefined;
  }
}

/** "NOPERM this user has no permissions to run the 'set' command" -> "set". */
function commandNamed(message: string): string | undefined {
  return /run the '([^']+)' command/.exec(message)?.[1];
}
