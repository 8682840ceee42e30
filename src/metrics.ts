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
  readonly storeOperations = new Counter({
    name: 'session_store_operations_total',
    help: 'Session store operations by backend, operation and outcome (ok or an error code)',
    labelNames: ['backend', 'operation', 'outcome'],
    registers: [this.registry],
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
    const track = <T>(operation: string, run: () => Promise<T>): Promise<T> =>
      run().then(
        (result) => {
          this.storeOperations.inc({ backend: store.name, operation, outcome: 'ok' });
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
    return {
      get name() {
        return store.name;
      },
      get connected() {
        return store.connected;
      },
      get: (id) => track('get', () => store.get(id)),
      set: (id, value, ttl) => track('set', () => store.set(id, value, ttl)),
      setIf: (id, value, ttl, range) => track('set', () => store.setIf(id, value, ttl, range)),
      quarantine: (id, unreadable) => track('quarantine', () => store.quarantine(id, unreadable)),
      status: () => store.status(),
      delete: (id) => track('delete', () => store.delete(id)),
      exists: (id) => track('exists', () => store.exists(id)),
      ttl: (id) => track('ttl', () => store.ttl(id)),
      list: (options?: ListOptions) => track('list', () => store.list(options)),
      close: () => store.close(),
    };
  }
}
