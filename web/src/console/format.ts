/** Numbers, times and durations as the console shows them (pt-BR). Pure. */
import { operator } from '../../../src/texts/web.js';

const number = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat('pt-BR', { style: 'percent', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat('pt-BR', { timeStyle: 'medium' });
const minuteClock = new Intl.DateTimeFormat('pt-BR', { hour: '2-digit', minute: '2-digit' });

const pad = (value: number) => String(value).padStart(2, '0');

/** A time left: "45 s", "12 min 05 s", "3 h 07 min", "2 d 04 h"; null is no expiry. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return operator.noExpiry;
  if (seconds <= 0) return operator.expired;
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86400)} d ${pad(Math.floor((s % 86400) / 3600))} h`;
}

/** What is left of a TTL read `ttl` seconds ago at `readAt` (ms), at `now` (ms). */
export function ttlLeft(ttl: number | null, readAt: number, now: number): number | null {
  if (ttl === null) return null;
  return Math.max(0, ttl - Math.floor((now - readAt) / 1000));
}

/** "512 B", "6,2 KB", "1,5 MB", "2,1 GB" (powers of 1024). */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return operator.none;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : number.format(value)} ${units[unit]}`;
}

/** Share of reads that found their key; undefined before any read. */
export function hitRatio(hits: number | null, misses: number | null): number | undefined {
  if (hits === null || misses === null || hits + misses === 0) return undefined;
  return hits / (hits + misses);
}

export const formatPercent = (share: number | undefined): string =>
  share === undefined ? operator.none : percent.format(share);

export const formatCount = (value: number | null): string =>
  value === null ? operator.none : number.format(value);

export function formatDateTime(iso: string | null): string {
  if (iso === null) return operator.none;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? operator.none : dateTime.format(at);
}

export const formatClock = (at: Date): string => clock.format(at);

export const formatMinute = (at: Date): string => minuteClock.format(at);
