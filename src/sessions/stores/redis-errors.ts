/**
 * How the Redis store's calls fail: a deadline on any promise, and connection errors in words an
 * operator can act on.
 */

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Settles like `promise`, or rejects with DeadlineError after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export const reasonOf = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

/** A connection error in words an operator can act on. */
export function explain(error: unknown, url: string): string {
  const reason = reasonOf(error);
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(reason)) {
    return `authentication failed (wrong user name or password): ${reason}`;
  }
  if (/certificate|self[- ]signed|SSL|TLS|wrong version number|CERT_/i.test(reason)) {
    return `TLS handshake failed: ${reason}`;
  }
  if (/Socket closed unexpectedly|ECONNRESET/i.test(reason) && url.startsWith('redis:')) {
    return `${reason} (a server that only speaks TLS closes plain-text connections: use rediss://)`;
  }
  return reason;
}
