/** The console's calls to the admin routes, each with `Authorization: Bearer <key>`, and the
 * Portuguese sentence for each way they fail. Only fetch: node's test runner runs it too. */
import { operator } from '../../../src/texts/web.js';
import { detailOf } from '../shared/api-failure.js';
import {
  asOutcomes,
  asSessionDetail,
  asSessionPage,
  asStoreStatus,
  type Outcomes,
  type SessionDetail,
  type SessionPage,
  type StoreStatus,
} from './admin-api.js';

export type AdminFailure =
  | { kind: 'network' }
  | { kind: 'http'; status: number; detail: string | undefined };

export type AdminOutcome<T> = { ok: true; value: T } | { ok: false; failure: AdminFailure };

export interface SessionQuery {
  limit: number;
  cursor?: string | null;
  state?: string;
  prefix?: string;
}

/** A 401 means the key is wrong or gone: the console asks for it again. */
export const isUnauthorized = (failure: AdminFailure): boolean =>
  failure.kind === 'http' && failure.status === 401;

/** What the operator reads about a failed call. */
export function adminMessage(failure: AdminFailure): string {
  if (failure.kind === 'network') return operator.network;
  switch (failure.status) {
    case 401:
      return operator.keyRefused;
    case 403:
      return operator.loopbackOnly;
    case 404:
    case 405:
    case 501:
      return operator.notAvailable(failure.status);
    default:
      return operator.refused(failure.status, failure.detail);
  }
}

export interface AdminClientOptions {
  /** @default '' (same origin) */
  base?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export class AdminClient {
  readonly #key: string;
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor(key: string, options: AdminClientOptions = {}) {
    this.#key = key;
    this.#base = options.base ?? '';
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  sessions(query: SessionQuery): Promise<AdminOutcome<SessionPage>> {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.state) params.set('state', query.state);
    if (query.prefix) params.set('prefix', query.prefix);
    return this.#call(`/api/v1/chat/sessions?${params}`, {}, asSessionPage);
  }

  session(id: string): Promise<AdminOutcome<SessionDetail>> {
    return this.#call(`/api/v1/sessions/${encodeURIComponent(id)}`, {}, asSessionDetail);
  }

  deleteSession(id: string): Promise<AdminOutcome<null>> {
    return this.#call(
      `/api/v1/sessions/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      () => null,
    );
  }

  setTtl(id: string, seconds: number): Promise<AdminOutcome<{ ttl: number | null }>> {
    return this.#call(
      `/api/v1/sessions/${encodeURIComponent(id)}/ttl`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ttl_seconds: seconds }),
      },
      (value) => {
        const ttl = (value as { ttl?: unknown } | null)?.ttl;
        return { ttl: Number.isFinite(ttl) ? (ttl as number) : null };
      },
    );
  }

  store(): Promise<AdminOutcome<StoreStatus>> {
    return this.#call('/api/v1/admin/store', {}, asStoreStatus);
  }

  outcomes(): Promise<AdminOutcome<Outcomes>> {
    return this.#call('/api/v1/admin/outcomes', {}, asOutcomes);
  }

  async #call<T>(
    path: string,
    init: RequestInit,
    read: (value: unknown) => T | undefined,
  ): Promise<AdminOutcome<T>> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}${path}`, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${this.#key}`,
        },
      });
    } catch {
      return { ok: false, failure: { kind: 'network' } };
    }
    const body = await response.text().catch(() => '');
    if (!response.ok) {
      return {
        ok: false,
        failure: { kind: 'http', status: response.status, detail: detailOf(body) },
      };
    }
    let parsed: unknown = null;
    if (body !== '') {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const value = read(parsed);
    return value === undefined
      ? { ok: false, failure: { kind: 'http', status: 502, detail: undefined } }
      : { ok: true, value };
  }
}
