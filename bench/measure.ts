/** Latency sampling shared by the benchmarks, and the garbage collector's pauses met meanwhile. */
import {
  constants,
  type PerformanceEntry,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';

export type Timed = () => Promise<unknown>;

export interface Stat {
  p50: number;
  p99: number;
  /** Samples during which the garbage collector paused the process (any kind of pause). */
  gcHit: number;
  /** Samples counted. */
  samples: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * p50 and p99 (ms) of each operation, interleaved so that machine noise hits them alike: each
 * round runs every operation once, in a new random order (a fixed order would always put the
 * same operation before each one, and what ran just before, on which connection, shows in a
 * latency of 0.1 ms). The first tenth of the rounds warms up and is not counted.
 */
export async function measure<T extends Timed[]>(
  samples: number,
  operations: [...T],
): Promise<{ [K in keyof T]: Stat }> {
  const times: number[][] = operations.map(() => []);
  // Where each counted sample started and ended (performance.now), to find the GC pauses in it.
  const windows: number[][] = operations.map(() => []);
  const gc = watchGc();
  const order = operations.map((_, k) => k);
  let seed = 12345;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  for (let i = 0; i < samples + samples / 10; i++) {
    for (let j = order.length - 1; j > 0; j--) {
      const other = random(j + 1);
      [order[j], order[other]] = [order[other] as number, order[j] as number];
    }
    for (const k of order) {
      const start = performance.now();
      await (operations[k] as Timed)();
      const end = performance.now();
      if (i >= samples / 10) {
        times[k]?.push(end - start);
        windows[k]?.push(start, end);
      }
    }
  }
  const pauses = (await gc.stop()).spans;
  return times.map((t, k) => {
    const sorted = t.sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      gcHit: countOverlaps(windows[k] ?? [], pauses),
      samples: sorted.length,
    };
  }) as { [K in keyof T]: Stat };
}

/** How many of the windows (start, end pairs, in order) overlap one of the spans (in order). */
function countOverlaps(windows: number[], spans: number[]): number {
  let found = 0;
  let s = 0;
  for (let w = 0; w < windows.length; w += 2) {
    const start = windows[w] as number;
    const end = windows[w + 1] as number;
    while (s < spans.length && (spans[s + 1] as number) <= start) s += 2;
    if (s < spans.length && (spans[s] as number) < end) found++;
  }
  return found;
}

/** Pauses of the garbage collector: young generation (scavenges) and the rest. */
export interface GcPauses {
  scavenges: number;
  scavengeMs: number;
  /** Mark-sweep-compact, incremental marking and weak-callback pauses. */
  others: number;
  othersMs: number;
  /** The longest single pause. */
  maxMs: number;
  /** Every pause's start and end (performance.now), in order. */
  spans: number[];
}

/** Starts recording GC pauses; stop() returns what was recorded since. */
export function watchGc(): { stop(): Promise<GcPauses> } {
  const pauses: GcPauses = {
    scavenges: 0,
    scavengeMs: 0,
    others: 0,
    othersMs: 0,
    maxMs: 0,
    spans: [],
  };
  const add = (entries: PerformanceEntry[]) => {
    for (const entry of entries) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        pauses.scavenges++;
        pauses.scavengeMs += entry.duration;
      } else {
        pauses.others++;
        pauses.othersMs += entry.duration;
      }
      pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
      pauses.spans.push(entry.startTime, entry.startTime + entry.duration);
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      // Entries are handed over on a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      add(observer.takeRecords());
      observer.disconnect();
      return pauses;
    },
  };
}

export function describeGc(pauses: GcPauses): string {
  return (
    `${pauses.scavenges} scavenges (${pauses.scavengeMs.toFixed(1)} ms), ` +
    `${pauses.others} other pauses (${pauses.othersMs.toFixed(1)} ms), ` +
    `longest ${pauses.maxMs.toFixed(2)} ms`
  );
}
