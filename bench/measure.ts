/** Latency sampling shared by the benchmarks. */

export type Timed = () => Promise<unknown>;

export interface Stat {
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * p50 and p99 (ms) of each operation, run in turn, interleaved so that machine noise hits them
 * alike; the first tenth of the samples warms up and is not counted.
 */
export async function measure<T extends Timed[]>(
  samples: number,
  operations: [...T],
): Promise<{ [K in keyof T]: Stat }> {
  const times: number[][] = operations.map(() => []);
  for (let i = 0; i < samples + samples / 10; i++) {
    for (let j = 0; j < operations.length; j++) {
      const k = (i + j) % operations.length;
      const start = process.hrtime.bigint();
      await (operations[k] as Timed)();
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      if (i >= samples / 10) times[k]?.push(elapsed);
    }
  }
  return times.map((t) => {
    const sorted = t.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }) as { [K in keyof T]: Stat };
}
