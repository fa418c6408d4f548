/**
 * Part 5: a payment's cost with a 100,000-payment ledger beside its cost with
 * an empty one (issue 10: within 5 %). Sales through TerminalSession on the
 * in-process simulator (card delay 0), each committed (synchronous=FULL)
 * before it leaves and settled after; rounds of the two cases interleaved.
 * `loadMs`: the time to open the full ledger.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLedger, type JournalEntry, type Ledger } from '../lib/ledger';
import { fillLedger } from './ledger-fill';
import { TerminalSession } from '../lib/session';
import { SimulatorTransport } from '../lib/simulator/transport';
import { median, nowMs } from './stats';

export interface JournalResult {
  entries: number;
  salesPerRound: number;
  rounds: number;
  msPerSaleEmpty: number;
  msPerSaleFull: number;
  ratio: number;
  loadMs: number;
}

const ENTRIES = 100_000;
const SALES = 40;
const ROUNDS = 9;

function prefill(file: string): void {
  const t = new Date().toISOString();
  const entries: JournalEntry[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    entries.push({ referenceID: `old-${i}`, action: 'Sale', amount: '10.20', currency: 'HKD', terminal: 'bench', requestID: `r-${i}`, state: 'Success', openedAt: t, closedAt: t, outcome: { status: 'Success', verdict: 'approved', reason: 'approved' } });
  }
  fillLedger(file, entries);
}

async function round(journal: Ledger, tag: string): Promise<number> {
  const session = new TerminalSession({ transport: new SimulatorTransport({ cardDelayMs: 0 }), pairingCode: '260880', clientDeviceSN: 'BENCH', journal, terminalId: 'bench' });
  await session.open();
  const start = nowMs();
  for (let i = 0; i < SALES; i++) await session.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: `${tag}-${i}` });
  const ms = (nowMs() - start) / SALES;
  await session.close();
  return ms;
}

export async function runJournal(): Promise<JournalResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-journal-'));
  try {
    const fullFile = path.join(dir, 'full', 'ledger.db');
    prefill(fullFile);
    const loadStart = nowMs();
    const full = openLedger(fullFile);
    const loadMs = nowMs() - loadStart;
    const empty = openLedger(path.join(dir, 'empty', 'ledger.db'));
    const emptyTimes: number[] = [];
    const fullTimes: number[] = [];
    await round(empty, 'warm-e');
    await round(full, 'warm-f');
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so neither always follows the other.
      if (r % 2 === 0) {
        emptyTimes.push(await round(empty, `e${r}`));
        fullTimes.push(await round(full, `f${r}`));
      } else {
        fullTimes.push(await round(full, `f${r}`));
        emptyTimes.push(await round(empty, `e${r}`));
      }
    }
    const held = full.query<{ n: number }>('SELECT count(*) AS n FROM payments')[0]!.n;
    if (held < ENTRIES) throw new Error(`the full ledger holds ${held} payments`);
    await full.close();
    await empty.close();
    const msPerSaleEmpty = median(emptyTimes);
    const msPerSaleFull = median(fullTimes);
    return { entries: ENTRIES, salesPerRound: SALES, rounds: ROUNDS, msPerSaleEmpty, msPerSaleFull, ratio: msPerSaleFull / msPerSaleEmpty, loadMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
