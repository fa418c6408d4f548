/**
 * The operator tools' reads of a 500,000-payment ledger (issue 22): a month's
 * totals, the sidebar's lists and a month's CSV, each asked of the reader
 * worker as the runtime asks it, with the longest the event loop was held
 * meanwhile (a 1 ms timer's gaps, in this thread's CPU time and in wall time).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LedgerReader, type ReadCursor } from '../lib/ledger';
import { bulkLedger } from '../test/helpers/ledger-fixture';
import { holding } from './loop-hold';
import { median } from './stats';

export interface LedgerReadsResult {
  payments: number;
  rounds: number;
  buildMs: number;
  /** Totals of a month (all 500,000 payments), median ms. */
  monthTotalsMs: number;
  /** …the CPU time the worker spent on it, median ms (the same on a loaded machine). */
  monthTotalsCpuMs: number;
  /** Totals of a day, median ms. */
  dayTotalsMs: number;
  /** Open payments (limit 200) and the newest 100, median ms. */
  openListMs: number;
  recentListMs: number;
  /** The CSV of a day, median ms (pages of 2,000). */
  dayCsvMs: number;
  /** The longest the event loop was held during any of them: thread CPU ms, wall ms. */
  heldCpuMs: number;
  heldWallMs: number;
}

const PAYMENTS = 500_000;
const DAY = 86_400_000;

export async function runLedgerReads(rounds = 5): Promise<LedgerReadsResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-ledger-'));
  const file = path.join(dir, 'ledger.db');
  const start = Date.UTC(2026, 10, 1);
  const t0 = Date.now();
  bulkLedger(file, { payments: PAYMENTS, terminals: Array.from({ length: 50 }, (_, i) => ({ name: `lan-10.0.0.${i}:1234`, configNode: `t${i}` })), start, spanMs: 30 * DAY });
  const buildMs = Date.now() - t0;
  const reader = new LedgerReader(file);
  const month = { from: start, to: start + 30 * DAY };
  const day = { from: start + 29 * DAY, to: start + 30 * DAY };
  const times: Record<'month' | 'monthCpu' | 'day' | 'open' | 'recent' | 'csv', number[]> = { month: [], monthCpu: [], day: [], open: [], recent: [], csv: [] };
  let heldCpuMs = 0;
  let heldWallMs = 0;
  const timed = async (key: keyof typeof times, work: () => Promise<unknown>) => {
    const r = await holding(work);
    times[key].push(r.ms);
    heldCpuMs = Math.max(heldCpuMs, r.held.cpuMs);
    heldWallMs = Math.max(heldWallMs, r.held.wallMs);
  };
  try {
    // One warm-up round (the worker started, its statements prepared), then the measured ones.
    for (let round = 0; round <= rounds; round++) {
      if (round === 1) for (const list of Object.values(times)) list.length = 0;
      await timed('month', () => reader.ask('totals', { query: month }));
      times.monthCpu.push(reader.lastCpuMs);
      await timed('day', () => reader.ask('totals', { query: day }));
      await timed('open', () => reader.ask('page', { query: { state: 'open' }, order: 'newest', limit: 200 }));
      await timed('recent', () => reader.ask('page', { query: {}, order: 'newest', limit: 100 }));
      await timed('csv', async () => {
        let after: ReadCursor | undefined;
        for (;;) {
          const page = await reader.ask('csvPage', { query: day, order: 'oldest', limit: 2_000, ...(after !== undefined ? { after } : {}) });
          if (page.next === undefined) return;
          after = page.next;
        }
      });
    }
  } finally {
    await reader.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    payments: PAYMENTS,
    rounds,
    buildMs,
    monthTotalsMs: median(times.month),
    monthTotalsCpuMs: median(times.monthCpu),
    dayTotalsMs: median(times.day),
    openListMs: median(times.open),
    recentListMs: median(times.recent),
    dayCsvMs: median(times.csv),
    heldCpuMs,
    heldWallMs,
  };
}
