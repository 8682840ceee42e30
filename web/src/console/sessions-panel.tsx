/** The sessions, a page at a time (the listing's cursor), filtered by state or id prefix, with
 * each one's TTL counting down; a row opens the session. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { operator } from '../../../src/texts/web.js';
import { AGENT_STATES } from '../chat/chat-api.js';
import type { SessionPage } from './admin-api.js';
import { type AdminClient, type AdminFailure, adminMessage } from './admin-client.js';
import { formatBytes, formatDateTime, formatDuration, ttlLeft } from './format.js';
import { useNow } from './hooks.js';
import { SessionDetailDialog } from './session-detail.js';

const texts = operator.sessions;
export const PAGE_SIZE = 25;

interface Filter {
  state: string;
  prefix: string;
}

interface Loaded {
  page: SessionPage;
  /** When it was read: TTLs count down from then. */
  readAt: number;
}

export interface SessionsPanelProps {
  client: AdminClient;
  onFailure: (failure: AdminFailure) => void;
}

export function SessionsPanel({ client, onFailure }: SessionsPanelProps) {
  const [filter, setFilter] = useState<Filter>({ state: '', prefix: '' });
  const [form, setForm] = useState<Filter>(filter);
  /** Cursors of the pages seen so far: the last one is this page's. */
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const now = useNow(1000);

  const cursor = cursors.at(-1) ?? null;
  /** The latest listing asked for: an earlier one that answers late is not shown over it. */
  const latest = useRef(0);
  const load = useCallback(async () => {
    const request = ++latest.current;
    setLoading(true);
    const outcome = await client.sessions({
      limit: PAGE_SIZE,
      cursor,
      state: filter.state,
      prefix: filter.prefix,
    });
    if (request !== latest.current) return;
    setLoading(false);
    if (outcome.ok) {
      setLoaded({ page: outcome.value, readAt: Date.now() });
      setError(null);
    } else {
      setError(adminMessage(outcome.failure));
      onFailure(outcome.failure);
    }
  }, [client, onFailure, cursor, filter]);

  useEffect(() => {
    void load();
  }, [load]);

  const rows = loaded?.page.sessions ?? [];
  const next = loaded?.page.cursor ?? null;

  return (
    <section class="panel" id="sessoes" aria-labelledby="sessions-title">
      <div class="panel-head">
        <h2 id="sessions-title">{texts.title}</h2>
        <button
          type="button"
          class="button button-quiet"
          onClick={() => void load()}
          disabled={loading}
        >
          {texts.refresh}
        </button>
      </div>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setStatus(null);
          setCursors([null]);
          setFilter({ state: form.state, prefix: form.prefix.trim() });
        }}
      >
        <label>
          <span>{texts.stateFilter}</span>
          <select
            value={form.state}
            onChange={(event) => {
              const state = event.currentTarget.value;
              setForm({ ...form, state });
              setCursors([null]);
              setFilter({ state, prefix: form.prefix.trim() });
            }}
          >
            <option value="">{texts.allStates}</option>
            {AGENT_STATES.map((state) => (
              <option key={state} value={state}>
                {operator.states[state]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{texts.prefix}</span>
          <input
            type="search"
            value={form.prefix}
            placeholder={texts.prefixPlaceholder}
            autocomplete="off"
            spellcheck={false}
            onInput={(event) => setForm({ ...form, prefix: event.currentTarget.value })}
          />
        </label>
        <button type="submit" class="button button-primary">
          {texts.search}
        </button>
      </form>
      {status && (
        <p class="panel-status" role="status">
          {status}
        </p>
      )}
      {error && (
        <p class="panel-error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="sessions-table" aria-busy={loading}>
          <caption>
            {texts.caption}
            <span class="muted"> · {loaded ? texts.count(rows.length) : texts.loading}</span>
          </caption>
          <thead>
            <tr>
              <th scope="col">{texts.id}</th>
              <th scope="col">{texts.state}</th>
              <th scope="col">{texts.attempt}</th>
              <th scope="col">{texts.ttl}</th>
              <th scope="col">{texts.updated}</th>
              <th scope="col">{texts.size}</th>
              <th scope="col">
                <span class="visually-hidden">{texts.actions}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.session_id}>
                <th scope="row">
                  <code>{row.session_id}</code>
                </th>
                <td>
                  <span class={`state state-${row.state}`}>
                    {operator.states[row.state] ?? row.state}
                  </span>
                </td>
                <td>{row.current_attempt}</td>
                <td class="ttl">{formatDuration(ttlLeft(row.ttl, loaded?.readAt ?? now, now))}</td>
                <td>{formatDateTime(row.updated_at)}</td>
                <td>{formatBytes(row.size_bytes)}</td>
                <td>
                  <button
                    type="button"
                    class="button button-quiet button-small"
                    aria-label={texts.openLabel(row.session_id)}
                    onClick={() => setOpen(row.session_id)}
                  >
                    {texts.open}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loaded && rows.length === 0 && <p class="muted empty">{texts.empty}</p>}
      </div>
      <nav class="pager" aria-label={texts.title}>
        <button
          type="button"
          class="button button-quiet"
          disabled={cursors.length === 1 || loading}
          onClick={() => setCursors([null])}
        >
          {texts.first}
        </button>
        <button
          type="button"
          class="button button-quiet"
          disabled={cursors.length === 1 || loading}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          {texts.previous}
        </button>
        <button
          type="button"
          class="button button-quiet"
          disabled={next === null || loading}
          onClick={() => setCursors([...cursors, next])}
        >
          {texts.next}
        </button>
      </nav>
      {open !== null && (
        <SessionDetailDialog
          client={client}
          sessionId={open}
          onFailure={onFailure}
          onClose={() => setOpen(null)}
          onDeleted={(id) => {
            setOpen(null);
            setStatus(operator.detail.deleted(id));
            void load();
          }}
          onTtlChanged={() => void load()}
        />
      )}
    </section>
  );
}
