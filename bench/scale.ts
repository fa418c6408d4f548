import { runChild, startChild, stopChild } from './children';
import { BAUD } from './line';
import type { LoadJob, LoadRound, MemoryJob, MemorySample } from './scale-child';
import { median } from './stats';

/**
 * Part 4: 50 terminals on 50 pty pairs (socat), their simulators (card delay
 * 0, serveSerial) in a child process of their own, driven from one Node-RED
 * runtime in another child (run with --expose-gc). Paced and unpaced, the
 * durable bare client on the same lines; unpaced, Node-RED's own empty
 * message path too, in the same kind of child.
 */
export const TERMINALS = 50;
const MEMORY_RUNS = 3;
const LOAD_ROUNDS = 3;
const SINGLE_SALES = 100;
const SALES_EACH = 20;
/** Messages per chain and round on Node-RED's empty message path (each costs a fraction of a sale: more of them to time). */
const EMPTY_PATH_EACH = 1_000;

export interface LoadSummary {
  singleP50Ms: number;
  singleP99Ms: number;
  manyP50Ms: number;
  manyP99Ms: number;
  /** Median over the rounds of (p99 with all terminals / p99 with one). */
  p99Ratio: number;
  salesPerSecond: number;
  /** CPU time of the driving process over wall time, while all terminals ran (100 = one core). */
  cpuPct: number;
  errors: number;
}

export interface ScaleResult {
  terminals: number;
  memoryRuns: number;
  loadRounds: number;
  singleSales: number;
  salesEach: number;
  /** Both directions paced at 115,200 baud: through Node-RED, and the bare client on the same lines. */
  paced: { nodeRed: LoadSummary; bare: LoadSummary; durableBare: LoadSummary };
  /**
   * No pacing: as fast as the lines and the runtime go. Beside the sales
   * through Node-RED, the durable bare client on the same lines, and
   * Node-RED's own empty message path (inject → function `return msg;` →
   * helper, one chain per terminal, no lines; its "sales" are messages).
   */
  unpaced: { nodeRed: LoadSummary; durableBare: LoadSummary; emptyPath: LoadSummary };
  emptyPathEach: number;
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

function summary(label: string, rounds: LoadRound[]): LoadSummary {
  const m = (f: (r: LoadRound) => number) => median(rounds.map(f));
  const errors = rounds.reduce((n, r) => n + r.errors, 0);
  const first = rounds.find((r) => r.firstError !== undefined)?.firstError;
  if (first !== undefined) console.error(`  ${label}: ${errors} sale(s) failed, first: ${first}`);
  return {
    singleP50Ms: m((r) => r.singleP50),
    singleP99Ms: m((r) => r.singleP99),
    manyP50Ms: m((r) => r.manyP50),
    manyP99Ms: m((r) => r.manyP99),
    p99Ratio: m((r) => r.manyP99 / r.singleP99),
    salesPerSecond: m((r) => r.salesPerSecond),
    cpuPct: m((r) => r.cpuPct),
    errors,
  };
}

/** CPU of the driving process per sale (or message), ms: its CPU share over its rate. */
export function cpuMsPerSale(s: LoadSummary): number {
  return ((s.cpuPct / 100) * 1000) / s.salesPerSecond;
}

export async function runScale(log: (line: string) => void = () => undefined): Promise<ScaleResult> {
  const load = (mode: LoadJob['mode'], paths: string[], paceBaud: number): LoadJob => ({
    mode,
    paths,
    paceBaud,
    rounds: LOAD_ROUNDS,
    singleSales: SINGLE_SALES,
    salesEach: SALES_EACH,
  });
  // One spare line for the memory baseline's single terminal.
  const paced = await withLines(TERMINALS + 1, BAUD, async (paths) => {
    const memory: MemorySample[][] = [];
    for (let i = 0; i < MEMORY_RUNS; i++) {
      log(`  memory, run ${i + 1} of ${MEMORY_RUNS}`);
      memory.push(await child<MemorySample[]>({ mode: 'memory', paths }));
    }
    const lines = paths.slice(0, TERMINALS);
    log('  paced load through Node-RED');
    const nodeRed = await child<LoadRound[]>(load('load', lines, BAUD));
    log('  paced load, bare client');
    const bare = await child<LoadRound[]>(load('bare', lines, BAUD));
    log('  paced load, durable bare client (two O_DSYNC appends per sale, one file per terminal)');
    const durableBare = await child<LoadRound[]>(load('durable-bare', lines, BAUD));
    return { memory, nodeRed, bare, durableBare };
  });
  const unpaced = await withLines(TERMINALS, 0, async (paths) => {
    log('  unpaced load through Node-RED');
    const nodeRed = await child<LoadRound[]>(load('load', paths, 0));
    log('  unpaced load, durable bare client');
    const durableBare = await child<LoadRound[]>(load('durable-bare', paths, 0));
    log(`  Node-RED's empty message path (inject → function → helper), ${TERMINALS} chains`);
    const emptyPath = await child<LoadRound[]>({ ...load('empty-path', paths, 0), salesEach: EMPTY_PATH_EACH });
    return { nodeRed, durableBare, emptyPath };
  });
  const per = (f: (s: MemorySample) => number) => median(paced.memory.map(([base, full]) => (f(full!) - f(base!)) / TERMINALS / 1024));
  return {
    terminals: TERMINALS,
    memoryRuns: MEMORY_RUNS,
    loadRounds: LOAD_ROUNDS,
    singleSales: SINGLE_SALES,
    salesEach: SALES_EACH,
    paced: { nodeRed: summary('paced, Node-RED', paced.nodeRed), bare: summary('paced, bare', paced.bare), durableBare: summary('paced, durable bare', paced.durableBare) },
    unpaced: { nodeRed: summary('unpaced, Node-RED', unpaced.nodeRed), durableBare: summary('unpaced, durable bare', unpaced.durableBare), emptyPath: summary('empty message path', unpaced.emptyPath) },
    emptyPathEach: EMPTY_PATH_EACH,
    memoryPerTerminal: { rssKB: per((s) => s.rss), heapKB: per((s) => s.heapUsed), externalKB: per((s) => s.external) },
  };
}
