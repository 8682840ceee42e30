/** The shapes of the admin routes (the HTTP contract), as the console reads them. */
import type { AgentState } from '../chat/chat-api.js';

export interface SessionRow {
  session_id: string;
  state: AgentState;
  current_attempt: number;
  /** Seconds left when listed; null without expiry. */
  ttl: number | null;
  updated_at: string | null;
  size_bytes: number | null;
}

export interface SessionPage {
  sessions: SessionRow[];
  /** The next page's cursor; null on the last page. */
  cursor: string | null;
}

export interface SessionDetail {
  session_id: string;
  state: AgentState;
  current_attempt: number;
  max_attempts: number;
  problem: string | null;
  conversation_history: { role: string; content: string; at?: string }[];
  created_at: string | null;
  updated_at: string | null;
  version: number | null;
  ttl: number | null;
}

export interface StoreStatus {
  backend: 'redis' | 'memory';
  topology: 'single' | 'cluster' | 'sentinel' | null;
  connected: boolean;
  on_memory_since: string | null;
  pending_writebacks: number;
  quarantined: number | null;
  used_memory_bytes: number | null;
  maxmemory_bytes: number | null;
  evicted_keys: number | null;
  keyspace_hits: number | null;
  keyspace_misses: number | null;
  degraded_reason: string | null;
}

export interface OutcomeCounts {
  resolved: number;
  max_attempts: number;
  open: number;
}

export interface Outcomes {
  turns_per_minute: { minute: string; turns: number }[];
  totals: OutcomeCounts;
  by_topic: (OutcomeCounts & { topic: string })[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const int = (value: unknown): number | null => (Number.isFinite(value) ? (value as number) : null);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function asSessionPage(value: unknown): SessionPage | undefined {
  if (!isObject(value) || !Array.isArray(value.sessions)) return undefined;
  const sessions = value.sessions.filter(isObject).map(
    (row): SessionRow => ({
      session_id: String(row.session_id),
      state: row.state as AgentState,
      current_attempt: int(row.current_attempt) ?? 0,
      ttl: int(row.ttl),
      updated_at: text(row.updated_at),
      size_bytes: int(row.size_bytes),
    }),
  );
  return { sessions, cursor: text(value.cursor) };
}

export function asSessionDetail(value: unknown): SessionDetail | undefined {
  if (!isObject(value) || typeof value.session_id !== 'string') return undefined;
  const history = Array.isArray(value.conversation_history) ? value.conversation_history : [];
  return {
    session_id: value.session_id,
    state: value.state as AgentState,
    current_attempt: int(value.current_attempt) ?? 0,
    max_attempts: int(value.max_attempts) ?? 0,
    problem: text(value.problem),
    conversation_history: history.filter(isObject).map((message) => ({
      role: String(message.role),
      content: String(message.content),
      ...(typeof message.at === 'string' ? { at: message.at } : {}),
    })),
    created_at: text(value.created_at),
    updated_at: text(value.updated_at),
    version: int(value.version),
    ttl: int(value.ttl),
  };
}

export function asStoreStatus(value: unknown): StoreStatus | undefined {
  if (!isObject(value) || (value.backend !== 'redis' && value.backend !== 'memory')) {
    return undefined;
  }
  const topology = value.topology;
  return {
    backend: value.backend,
    topology:
      topology === 'single' || topology === 'cluster' || topology === 'sentinel' ? topology : null,
    connected: value.connected === true,
    on_memory_since: text(value.on_memory_since),
    pending_writebacks: int(value.pending_writebacks) ?? 0,
    quarantined: int(value.quarantined),
    used_memory_bytes: int(value.used_memory_bytes),
    maxmemory_bytes: int(value.maxmemory_bytes),
    evicted_keys: int(value.evicted_keys),
    keyspace_hits: int(value.keyspace_hits),
    keyspace_misses: int(value.keyspace_misses),
    degraded_reason: text(value.degraded_reason),
  };
}

const counts = (value: Record<string, unknown>): OutcomeCounts => ({
  resolved: int(value.resolved) ?? 0,
  max_attempts: int(value.max_attempts) ?? 0,
  open: int(value.open) ?? 0,
});

export function asOutcomes(value: unknown): Outcomes | undefined {
  if (!isObject(value) || !isObject(value.totals)) return undefined;
  const turns = Array.isArray(value.turns_per_minute) ? value.turns_per_minute : [];
  const topics = Array.isArray(value.by_topic) ? value.by_topic : [];
  return {
    turns_per_minute: turns
      .filter(isObject)
      .map((point) => ({ minute: String(point.minute), turns: int(point.turns) ?? 0 })),
    totals: counts(value.totals),
    by_topic: topics.filter(isObject).map((row) => ({ topic: String(row.topic), ...counts(row) })),
  };
}
