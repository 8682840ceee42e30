/**
 * Prometheus metrics (prom-client), one registry per server: HTTP requests by route and status
 * with latency, session store operations by backend and outcome, and the backend in use.
 */
import type { EventEmitter } from 'node:events';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ListOptions, SessionStore, StoreBackend } from './sessions/types.js';

const BACKENDS: readonly StoreBackend[] = ['memory', 'redis'];

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** Operations that succeeded and are not yet in storeOperations, by operation and backend. */
  readonly #storeOk: { operation: string; byBackend: Map<string, number> }[] = [];
  readonly storeOperations = new Counter({
    name: 'session_store_operations_total',
    help: 'Session store operations by backend, operation and outcome (ok or an error code)',
    labelNames: ['backend', 'operation', 'outcome'],
    registers: [this.registry],
    // Successes are handed over when the counter is read: inc() with labels hashes them on
    // every call, about 1 µs on each save and load.
    collect: () => {
      for (const { operation, byBackend } of this.#storeOk) {
        for (const [backend, n] of byBackend) {
          this.storeOperations.inc({ backend, operation, outcome: 'ok' }, n);
        }
        byBackend.clear();
      }
    },
  });
  readonly storeEvents = new Counter({
    name: 'session_store_events_total',
    help:
      'Failover events: unavailable (Redis stopped answering), recovered, write_rejected (Redis ' +
      'full), reconcile_merged (a session changed on two instances during an outage was merged), ' +
      'reconcile_conflict (one branch of a session was dropped at write-back)',
    labelNames: ['event'],
    registers: [this.registry],
  });
  readonly mergeDroppedMessages = new Counter({
    name: 'session_merge_dropped_messages_total',
    help: 'Messages a merge after an outage left out to fit MAX_HISTORY_MESSAGES or SESSION_MAX_BYTES',
    registers: [this.registry],
  });
  readonly sessionEvents = new Counter({
    name: 'session_events_total',
    help: 'conflict: a save met a newer version (the turn ran again); corrupt: a value was quarantined',
    labelNames: ['event'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge of the backend in use, read from `current()` at each scrape. */
  trackBackend(current: () => StoreBackend): void {
    new Gauge({
      name: 'session_store_backend',
      help: '1 for the session store backend in use, 0 for the other',
      labelNames: ['backend'],
      registers: [this.registry],
      collect() {
        for (const name of BACKENDS) this.set({ backend: name }, name === current() ? 1 : 0);
      },
    });
  }

  /** Counts the events of a failover store and of a session manager. */
  observe(failover: EventEmitter | undefined, manager: EventEmitter): void {
    const count = (counter: Counter, event: string) => () => counter.inc({ event });
    failover?.on('unavailable', count(this.storeEvents, 'unavailable'));
    failover?.on('recovered', count(this.storeEvents, 'recovered'));
    failover?.on('rejected', count(this.storeEvents, 'write_rejected'));
    failover?.on('conflict', count(this.storeEvents, 'reconcile_conflict'));
    failover?.on('merged', ({ dropped }: { dropped: number }) => {
      this.storeEvents.inc({ event: 'reconcile_merged' });
      if (dropped > 0) this.mergeDroppedMessages.inc(dropped);
    });
    manager.on('conflict', count(this.sessionEvents, 'conflict'));
    manager.on('corrupt', count(this.sessionEvents, 'corrupt'));
  }

  /** The same store, counting each operation and its outcome. */
  instrument(store: SessionStore): SessionStore {
    const tracker = (operation: string) => {
      const byBackend = new Map<string, number>();
      this.#storeOk.push({ operation, byBackend });
      return <T>(run: () => Promise<T>): Promise<T> =>
        run().then(
          (result) => {
            const backend = store.name;
            byBackend.set(backend, (byBackend.get(backend) ?? 0) + 1);
            return result;
          },
          (error: { code?: string }) => {
            this.storeOperations.inc({
              backend: store.name,
              operation,
              outcome: error.code ?? 'error',
            });
            throw error;
          },
        );
    };
    const get = tracker('get');
    const set = tracker('set');
    const quarantine = tracker('quarantine');
    const remove = tracker('delete');
    const exists = tracker('exists');
    const ttl = tracker('ttl');
    const list = tracker('list');
    return {
      get name() {
        return store.name;
      },
      get connected() {
        return store.connected;
      },
      get: (id) => get(() => store.get(id)),
      set: (id, value, seconds) => set(() => store.set(id, value, seconds)),
      setIf: (id, value, seconds, range) => set(() => store.setIf(id, value, seconds, range)),
      quarantine: (id, unreadable) => quarantine(() => store.quarantine(id, unreadable)),
      status: () => store.status(),
      delete: (id) => remove(() => store.delete(id)),
      exists: (id) => exists(() => store.exists(id)),
      ttl: (id) => ttl(() => store.ttl(id)),
      list: (options?: ListOptions) => list(() => store.list(options)),
      close: () => store.close(),
    };
  }
}
