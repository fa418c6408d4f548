/**
 * The ledger's start (issue 22): a gateway of 50 serial terminal config nodes
 * started on a ledger holding 10,000 settled payments of each, beside the
 * same gateway on an empty ledger. Each start in a fresh process
 * (bench/ledger-start-child.ts, --expose-gc), the cases interleaved, on the
 * same 50 pty lines with their simulators. `node dist/bench/ledger-start.js`
 * alone, or as a part of `npm run bench`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runChild, startChild, stopChild } from './children';
import type { FillResult, LedgerStartJob, StartSample } from './ledger-start-child';
import { repoRoot } from './paths';
import { median } from './stats';

const TERMINALS = 50;
const PAYMENTS_EACH = 10_000;
const RUNS = 3;
const MB = 1024 * 1024;

export interface LedgerStartCase {
  /** Deploy → every terminal connected, median ms. */
  startMs: number;
  /** The event loop's longest hold during the start, median ms. */
  loopHeldMs: number;
  /** After start and GC, median MB. */
  rssMB: number;
  heapMB: number;
  externalMB: number;
}

export interface LedgerStartResult {
  terminals: number;
  paymentsEach: number;
  runs: number;
  /** Payments the full ledger holds, its size, and how long writing it took (direct SQL). */
  payments: number;
  ledgerMB: number;
  fillMs: number;
  full: LedgerStartCase;
  empty: LedgerStartCase;
  /** Median over the runs of (full − empty) RSS after start and GC, MB. */
  rssDeltaMB: number;
  /** …and of the heap, MB. */
  heapDeltaMB: number;
  /** Every run's samples, empty and full. */
  samples: { empty: StartSample[]; full: StartSample[] };
}

function child<T>(job: LedgerStartJob): Promise<T> {
  return runChild<T>('ledger-start-child.js', [], { execArgv: ['--expose-gc'], env: { BENCH_JOB: JSON.stringify(job) }, timeoutMs: 300_000 });
}

function summary(samples: StartSample[]): LedgerStartCase {
  const m = (f: (s: StartSample) => number) => median(samples.map(f));
  return { startMs: m((s) => s.startMs), loopHeldMs: m((s) => s.loopHeldMs), rssMB: m((s) => s.rss / MB), heapMB: m((s) => s.heapUsed / MB), externalMB: m((s) => s.external / MB) };
}

export async function runLedgerStart(log: (line: string) => void = () => undefined): Promise<LedgerStartResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-ledger-start-'));
  const fullFile = path.join(dir, 'full', 'ledger.db');
  const emptyFile = path.join(dir, 'empty', 'ledger.db');
  const { child: lines, message } = await startChild<{ paths: string[] }>('line-child.js', [String(TERMINALS), '0']);
  try {
    log(`  writing a ledger of ${TERMINALS} × ${PAYMENTS_EACH.toLocaleString('en')} settled payments`);
    const filled = await child<FillResult>({ mode: 'fill', paths: message.paths, each: PAYMENTS_EACH, fullFile, emptyFile });
    const samples: { empty: StartSample[]; full: StartSample[] } = { empty: [], full: [] };
    for (let r = 0; r < RUNS; r++) {
      log(`  start on the empty ledger, then on the full one: run ${r + 1} of ${RUNS}`);
      samples.empty.push(await child<StartSample>({ mode: 'start', paths: message.paths, ledger: emptyFile }));
      samples.full.push(await child<StartSample>({ mode: 'start', paths: message.paths, ledger: fullFile }));
    }
    for (const s of samples.full) if (s.payments !== filled.payments) throw new Error(`the full ledger opened with ${s.payments} payments, not ${filled.payments}`);
    const delta = (f: (s: StartSample) => number) => median(samples.full.map((s, i) => (f(s) - f(samples.empty[i]!)) / MB));
    return {
      terminals: TERMINALS,
      paymentsEach: PAYMENTS_EACH,
      runs: RUNS,
      payments: filled.payments,
      ledgerMB: filled.bytes / MB,
      fillMs: filled.ms,
      full: summary(samples.full),
      empty: summary(samples.empty),
      rssDeltaMB: delta((s) => s.rss),
      heapDeltaMB: delta((s) => s.heapUsed),
      samples,
    };
  } finally {
    await stopChild(lines);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.chdir(repoRoot());
  runLedgerStart((l) => process.stderr.write(`${l}\n`)).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
