/** Where sessions live and how that store is doing (the spec's redis-cli INFO, as a page):
 * backend, connection, the memory copy, write-backs, quarantine, memory, evictions, hit ratio. */
import { useCallback, useState } from 'preact/hooks';
import { operator } from '../../../src/texts/web.js';
import type { StoreStatus } from './admin-api.js';
import { type AdminClient, type AdminFailure, adminMessage } from './admin-client.js';
import {
  formatBytes,
  formatClock,
  formatCount,
  formatDateTime,
  formatPercent,
  hitRatio,
} from './format.js';
import { usePolling } from './hooks.js';

const texts = operator.store;
const POLL_MS = 5000;

function Field({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <div class="field">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function MemoryUse({ used, max }: { used: number | null; max: number | null }) {
  if (used === null) return <>{operator.none}</>;
  if (max === null || max === 0) return <>{texts.noLimit(formatBytes(used))}</>;
  return (
    <>
      <meter
        class="memory-meter"
        min={0}
        max={max}
        value={used}
        low={max * 0.7}
        high={max * 0.9}
        optimum={0}
        aria-label={texts.redisMemory}
      />
      <span class="meter-text">
        {texts.memoryOf(formatBytes(used), formatBytes(max))} ({formatPercent(used / max)})
      </span>
    </>
  );
}

export interface StorePanelProps {
  client: AdminClient;
  onFailure: (failure: AdminFailure) => void;
}

export function StorePanel({ client, onFailure }: StorePanelProps) {
  const [status, setStatus] = useState<{ value: StoreStatus; at: Date } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    const outcome = await client.store();
    if (outcome.ok) {
      setStatus({ value: outcome.value, at: new Date() });
      setError(null);
    } else {
      setError(adminMessage(outcome.failure));
      onFailure(outcome.failure);
    }
  }, [client, onFailure]);
  usePolling(load, POLL_MS);

  const store = status?.value;
  return (
    <section class="panel" id="armazenamento" aria-labelledby="store-title">
      <div class="panel-head">
        <h2 id="store-title">{texts.title}</h2>
        {status && <p class="muted">{operator.updatedAt(formatClock(status.at))}</p>}
      </div>
      {error && (
        <p class="panel-error" role="alert">
          {error}
        </p>
      )}
      {store && (
        <dl class="fields">
          <Field label={texts.backend}>
            {store.backend === 'redis' ? texts.redis : texts.memory}
            {store.topology && ` (${texts.topologies[store.topology]})`}
          </Field>
          <Field label={texts.connected}>
            <span class={store.connected ? 'state-ok' : 'state-bad'}>
              {store.connected ? operator.yes : operator.no}
            </span>
          </Field>
          {store.on_memory_since && (
            <Field label={texts.onMemorySince}>
              <span class="state-bad">{formatDateTime(store.on_memory_since)}</span>
            </Field>
          )}
          {store.degraded_reason && (
            <Field label={texts.degradedReason}>{store.degraded_reason}</Field>
          )}
          <Field label={texts.pendingWritebacks}>{formatCount(store.pending_writebacks)}</Field>
          <Field label={texts.quarantined}>{formatCount(store.quarantined)}</Field>
          <Field label={texts.redisMemory}>
            <MemoryUse used={store.used_memory_bytes} max={store.maxmemory_bytes} />
          </Field>
          <Field label={texts.evicted}>{formatCount(store.evicted_keys)}</Field>
          <Field label={texts.hitRatio}>
            {formatPercent(hitRatio(store.keyspace_hits, store.keyspace_misses))}
          </Field>
        </dl>
      )}
    </section>
  );
}
