import { median, nowMs } from './stats';

/** A named operation to time; it returns something so the work cannot be optimised away. */
export interface Case {
  name: string;
  run: () => unknown;
}

export interface CaseResult {
  name: string;
  /** Median over the rounds of the mean time per operation in a round, µs. */
  usPerOp: number;
  /** Every round's mean time per operation, µs. */
  roundsUs: number[];
  opsPerRound: number;
}

let sink = 0;
function consume(value: unknown): void {
  // A cheap data dependency on the result.
  if (value === undefined || value === null) sink++;
  else if (typeof value === 'object' && 'length' in value) sink += (value as { length: number }).length & 1;
  else sink ^= 1;
}

/** How many operations take about `ms` milliseconds. */
function calibrate(run: () => unknown, ms: number): number {
  let n = 64;
  for (;;) {
    const t0 = nowMs();
    for (let i = 0; i < n; i++) consume(run());
    const took = nowMs() - t0;
    if (took >= ms / 4 || n >= 1 << 24) return Math.max(64, Math.round((n * ms) / Math.max(took, 0.001)));
    n *= 4;
  }
}

/**
 * Times each case in `rounds` rounds of about `batchMs` each, interleaving the
 * cases (rotating their order every round) so drift and GC fall evenly on
 * all of them. The figure is the median of the rounds' per-operation means.
 */
export function timeCases(cases: readonly Case[], options: { rounds: number; batchMs: number; warmupMs?: number }): CaseResult[] {
  const counts = cases.map((c) => {
    // Warm up (JIT) before calibrating.
    const end = nowMs() + (options.warmupMs ?? 200);
    while (nowMs() < end) for (let i = 0; i < 100; i++) consume(c.run());
    return calibrate(c.run, options.batchMs);
  });
  const samples: number[][] = cases.map(() => []);
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      const c = cases[i]!;
      const n = counts[i]!;
      const t0 = nowMs();
      for (let j = 0; j < n; j++) consume(c.run());
      samples[i]!.push(((nowMs() - t0) * 1000) / n);
    }
  }
  if (sink === -1) console.log(sink);
  return cases.map((c, i) => ({ name: c.name, usPerOp: median(samples[i]!), roundsUs: samples[i]!, opsPerRound: counts[i]! }));
}
