import { runChild, startChild, stopChild } from './children';
import { BAUD } from './line';
import type { LoadJob, LoadRound, MemoryJob, MemorySample } from './scale-child';
import { median } from './stats';

/**
 * Part 4: 50 terminals on 50 pty pairs (socat), their simulators in a child
 * process of their own, driven from one Node-RED runtime in another child.
 */
export const TERMINALS = 50;
const MEMORY_RUNS = 3;
const LOAD_ROUNDS = 3;

export interface ScaleResult {
  terminals: number;
  memoryRuns: number;
  loadRounds: number;
  singleSales: number;
  salesEach: number;
  /** Paced at 115,200 baud both ways. */
  paced: { singleP50Ms: number; singleP99Ms: number; manyP50Ms: number; manyP99Ms: number; p99Ratio: number; salesPerSecond: number; cpuPct: number; errors: number };
  /** No pacing: as fast as the line and the runtime go. */
  unpaced: { singleP99Ms: number; manyP50Ms: number; manyP99Ms: number; salesPerSecond: number; cpuPct: number; errors: number };
  memoryPerTerminal: { rssKB: number; heapKB: number; externalKB: number };
}

async function withLines<T>(count: number, pace: number, work: (paths: string[]) => Promise<T>): Promise<T> {
  const { child, message } = await startChild<{ paths: string[] }>('line-child.js', [String(count), String(pace)]);
  try {
    return await work(message.paths);
  } finally {
    await stopChild(child);
  }
}

function child<T>(job: MemoryJob | LoadJob): Promise<T> {
  return runChild<T>('scale-child.js', [], { execArgv: ['--expose-gc'], env: { BENCH_JOB: JSON.stringify(job) }, timeoutMs: 300_000 });
}

function summary(rounds: LoadRound[]) {
  const m = (f: (r: LoadRound) => number) => median(rounds.map(f));
  const errors = rounds.reduce((n, r) => n + r.errors, 0);
  const first = rounds.find((r) => r.firstError !== undefined)?.firstError;
  if (first !== undefined) console.error(`  sale errors: ${errors}, first: ${first}`);
  return { m, errors };
}

export async function runScale(): Promise<ScaleResult> {
  const singleSales = 60;
  const salesEach = 20;
  // One spare line for the memory baseline's single terminal.
  const { memory, paced } = await withLines(TERMINALS + 1, BAUD, async (paths) => {
    const memory: MemorySample[][] = [];
    for (let i = 0; i < MEMORY_RUNS; i++) memory.push(await child<MemorySample[]>({ mode: 'memory', paths }));
    const paced = await child<LoadRound[]>({ mode: 'load', paths: paths.slice(0, TERMINALS), paceBaud: BAUD, rounds: LOAD_ROUNDS, singleSales, salesEach });
    return { memory, paced };
  });
  const unpaced = await withLines(TERMINALS, 0, (paths) =>
    child<LoadRound[]>({ mode: 'load', paths, paceBaud: 0, rounds: LOAD_ROUNDS, singleSales: 40, salesEach }),
  );
  const per = (f: (s: MemorySample) => number) => median(memory.map(([base, full]) => (f(full!) - f(base!)) / TERMINALS / 1024));
  const p = summary(paced);
  const u = summary(unpaced);
  return {
    terminals: TERMINALS,
    memoryRuns: MEMORY_RUNS,
    loadRounds: LOAD_ROUNDS,
    singleSales,
    salesEach,
    paced: {
      singleP50Ms: p.m((r) => r.singleP50),
      singleP99Ms: p.m((r) => r.singleP99),
      manyP50Ms: p.m((r) => r.manyP50),
      manyP99Ms: p.m((r) => r.manyP99),
      p99Ratio: p.m((r) => r.manyP99 / r.singleP99),
      salesPerSecond: p.m((r) => r.salesPerSecond),
      cpuPct: p.m((r) => r.cpuPct),
      errors: p.errors,
    },
    unpaced: {
      singleP99Ms: u.m((r) => r.singleP99),
      manyP50Ms: u.m((r) => r.manyP50),
      manyP99Ms: u.m((r) => r.manyP99),
      salesPerSecond: u.m((r) => r.salesPerSecond),
      cpuPct: u.m((r) => r.cpuPct),
      errors: u.errors,
    },
    memoryPerTerminal: { rssKB: per((s) => s.rss), heapKB: per((s) => s.heapUsed), externalKB: per((s) => s.external) },
  };
}
