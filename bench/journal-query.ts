/**
 * Issue 14: the journal's queries on 100,000 entries (goal: totals under
 * 200 ms), from memory (a terminal's open Journal) and from files (the CLI,
 * a journal no node has open): totals of everything, totals of a day, the
 * list of a day. Two layouts on disk: one 100,000-entry file (two lines a
 * payment: open, then its outcome), and a journal
 * compacted as it runs (10,000 settled entries kept, the rest in monthly
 * archives). Median of ROUNDS runs each. In memory: the entries of a
 * Journal loaded from the 100,000-entry file, as a terminal node holds them.
 *
 * Standalone: `node dist/bench/journal-query.js` prints the figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { archiveMonth, journalArchiveFile } from '../lib/session/journal-archive';
import { Journal, journalTotals, queryJournal, readJournalFile, withArchives, type JournalEntry } from '../lib/session';
import { median, nowMs } from './stats';

export interface JournalQueryResult {
  entries: number;
  rounds: number;
  fileMB: number;
  /** journalTotals over every entry, in memory. */
  totalsMemoryMs: number;
  /** readJournalFile + journalTotals, one 100,000-entry file. */
  totalsFileMs: number;
  /** readJournalFile + journalTotals, 10,000 in the journal and 90,000 in monthly archives. */
  totalsArchivedMs: number;
  /** journalTotals of one day, in memory. */
  dayTotalsMemoryMs: number;
  /** queryJournal of one day (its ~1,000 entries, newest first), in memory. */
  dayListMemoryMs: number;
  /** readJournalFile for the day (only its month's archive) + queryJournal, archived layout. */
  dayListArchivedMs: number;
  /** A deployed terminal (its Journal open on the archived layout): the last day's totals (memory covers it). */
  liveLastDayTotalsMs: number;
  /** The same terminal: totals of a day 50 days back (its month's archive read). */
  liveOldDayTotalsMs: number;
}

const ENTRIES = 100_000;
const ROUNDS = 7;
const PER_DAY = 1_000;
const START = Date.UTC(2026, 5, 1, 1, 0, 0);

/** A busy kiosk's 100 days: sales mostly, some declined, refunds, voids, a few open. */
export function makeEntries(): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const day = Math.floor(i / PER_DAY);
    const at = new Date(START + day * 86_400_000 + (i % PER_DAY) * 50_000).toISOString();
    const closed = new Date(Date.parse(at) + 20_000).toISOString();
    const amount = `${(i * 37) % 5000}.${String(i % 100).padStart(2, '0')}`;
    const k = i % 20;
    const base = { terminal: 'bench', requestID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, openedAt: at, closedAt: closed, node: 'sale-node' };
    if (k === 19) {
      out.push({ ...base, referenceID: `S-${i - 3}`, action: 'Void', orgReferenceID: `S-${i - 3}`, state: 'Success', outcome: { status: 'Success', verdict: 'voided', reason: 'voided' } });
    } else if (k === 18) {
      out.push({ ...base, referenceID: `R-${i}`, action: 'Refund', amount, currency: 'TWD', orgReferenceID: `S-${i - 2}`, state: 'Success', outcome: { status: 'Success', transactionStatus: 'Success', amount, currency: 'TWD', rrn: `${i}`, verdict: 'approved', reason: 'approved' } });
    } else if (k === 17) {
      out.push({ ...base, referenceID: `S-${i}`, action: 'Sale', amount, currency: 'TWD', state: 'Failed', outcome: { status: 'Failed', errorCode: '51', errorMessage: 'Declined', verdict: 'declined', reason: 'declined' } });
    } else if (i % 5_000 === 0) {
      const { closedAt: _c, ...open } = base;
      out.push({ ...open, referenceID: `S-${i}`, action: 'Sale', amount, currency: 'TWD', state: 'open' });
    } else {
      out.push({ ...base, referenceID: `S-${i}`, action: 'Sale', amount, currency: i % 10 === 0 ? 'USD' : 'TWD', state: 'Success', outcome: { status: 'Success', transactionStatus: 'Success', amount, currency: 'TWD', rrn: `${i}`, brn: `B${i}`, transactionTime: at, verdict: 'approved', reason: 'approved' } });
    }
  }
  return out;
}

/** Archive lines: an entry's final state, once. */
function lines(entries: readonly JournalEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** Journal lines as a terminal writes them: each payment's "open" line, then its outcome's. */
function journalLines(entries: readonly JournalEntry[]): string {
  const out: string[] = [];
  for (const e of entries) {
    if (e.state !== 'open') {
      const { closedAt: _c, outcome: _o, ...open } = e;
      out.push(`${JSON.stringify({ ...open, state: 'open' })}\n`);
    }
    out.push(`${JSON.stringify(e)}\n`);
  }
  return out.join('');
}

function time(rounds: number, work: () => unknown): number {
  work(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = nowMs();
    work();
    times.push(nowMs() - start);
  }
  return median(times);
}

export async function runJournalQuery(): Promise<JournalQueryResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-jq-'));
  try {
    const made = makeEntries();
    const single = path.join(dir, 'journal-single.jsonl');
    fs.writeFileSync(single, journalLines(made), { mode: 0o600 });
    // In memory as a terminal's Journal holds them: loaded from its file (no compaction here).
    const journal = new Journal(single, { maxSettled: 10 * ENTRIES });
    const entries = journal.all();
    await journal.close();
    if (entries.length !== ENTRIES) throw new Error(`the journal holds ${entries.length}`);
    // The layout compaction leaves: the newest 10,000 in the journal, the rest by month.
    const archived = path.join(dir, 'journal-archived.jsonl');
    const kept = made.slice(-10_000);
    const byMonth = new Map<string, JournalEntry[]>();
    for (const e of made.slice(0, -10_000)) {
      const m = archiveMonth(e.openedAt);
      let month = byMonth.get(m);
      if (month === undefined) byMonth.set(m, (month = []));
      month.push(e);
    }
    for (const [m, es] of byMonth) fs.writeFileSync(journalArchiveFile(archived, m), lines(es), { mode: 0o600 });
    fs.writeFileSync(archived, journalLines(kept), { mode: 0o600 });

    // A day in the middle (in an archive).
    const from = new Date(START + 50 * 86_400_000 - 3_600_000).toISOString();
    const to = new Date(START + 51 * 86_400_000 - 3_600_000).toISOString();
    const check = (rows: ReturnType<typeof journalTotals>) => {
      if (rows.length === 0) throw new Error('no totals');
    };
    const totalsMemoryMs = time(ROUNDS, () => check(journalTotals(entries)));
    const totalsFileMs = time(ROUNDS, () => check(journalTotals(readJournalFile(single))));
    const totalsArchivedMs = time(ROUNDS, () => {
      const read = readJournalFile(archived);
      if (read.length !== ENTRIES) throw new Error(`read ${read.length} of ${ENTRIES}`);
      check(journalTotals(read));
    });
    const dayTotalsMemoryMs = time(ROUNDS, () => check(journalTotals(entries, { from, to })));
    const dayListMemoryMs = time(ROUNDS, () => {
      if (queryJournal(entries, { from, to }).length !== PER_DAY) throw new Error('not a day');
    });
    const dayListArchivedMs = time(ROUNDS, () => {
      if (queryJournal(readJournalFile(archived, { from, to }), { from, to }).length !== PER_DAY) throw new Error('not a day');
    });
    const live = new Journal(archived, { maxSettled: 10_000 });
    const lastFrom = new Date(START + 99 * 86_400_000 - 3_600_000).toISOString();
    const lastTo = new Date(START + 100 * 86_400_000 - 3_600_000).toISOString();
    const liveLastDayTotalsMs = time(ROUNDS, () => check(journalTotals(withArchives(archived, live.all(), { from: lastFrom, to: lastTo }), { from: lastFrom, to: lastTo })));
    const liveOldDayTotalsMs = time(ROUNDS, () => check(journalTotals(withArchives(archived, live.all(), { from, to }), { from, to })));
    await live.close();
    return {
      entries: ENTRIES,
      rounds: ROUNDS,
      fileMB: fs.statSync(single).size / 2 ** 20,
      totalsMemoryMs,
      totalsFileMs,
      totalsArchivedMs,
      dayTotalsMemoryMs,
      dayListMemoryMs,
      dayListArchivedMs,
      liveLastDayTotalsMs,
      liveOldDayTotalsMs,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runJournalQuery().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
