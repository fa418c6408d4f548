/**
 * Reading and querying journals for people and tools (the sidebar, the
 * admin endpoints, the wonder-journal node, `wonder-ecr journal`): the
 * entries of a period, today's totals, a CSV export. Nothing here writes.
 */
import { ValidationError } from '../protocol';
import type { JournalEntry } from '../ledger';
import { entryResult } from './journal-totals';
import { periodTest, type JournalPeriod } from './journal-time';

export { journalTotals, entryResult, type EntryResult, type TotalsRow, type TotalsOptions, type CountAndAmount } from './journal-totals';
export { journalCsv, csvCell, JOURNAL_CSV_COLUMNS, type JournalCsvColumn } from './journal-csv';
export { amountToMinor, minorToAmount } from './journal-amounts';
export { isoBound, periodBounds, periodTest, type JournalPeriod } from './journal-time';

export interface JournalQuery extends JournalPeriod {
  terminal?: string;
  /** `open`: outcome unknown; `settled`: Success or Failed (never-sent entries are in neither). */
  state?: 'open' | 'settled';
  /** An EntryResult (open, approved, voided, declined, not-sent) or a state (Success, Failed, NotSent). */
  result?: string;
  /** At most this many, the newest. */
  limit?: number;
}

const RESULTS = new Set(['open', 'approved', 'voided', 'declined', 'not-sent', 'Success', 'Failed', 'NotSent']);

/** Checks a query's fields; a ValidationError names the first wrong one. */
export function validateJournalQuery(q: JournalQuery): void {
  if (q.terminal !== undefined && (typeof q.terminal !== 'string' || q.terminal === '')) throw new ValidationError('terminal', 'must be a terminal id');
  if (q.state !== undefined && q.state !== 'open' && q.state !== 'settled') throw new ValidationError('state', `must be "open" or "settled", got ${JSON.stringify(q.state)}`);
  if (q.result !== undefined && (typeof q.result !== 'string' || !RESULTS.has(q.result))) {
    throw new ValidationError('result', `must be one of ${[...RESULTS].join(', ')}, got ${JSON.stringify(q.result)}`);
  }
  if (q.limit !== undefined && (typeof q.limit !== 'number' || !Number.isInteger(q.limit) || q.limit < 1)) {
    throw new ValidationError('limit', `must be a whole number of 1 or more, got ${JSON.stringify(q.limit)}`);
  }
  periodTest(q);
}

/** Whether an entry passes a query's `state` and `result` (its terminal and period aside). */
export function stateMatches(e: JournalEntry, q: Pick<JournalQuery, 'state' | 'result'>): boolean {
  if (q.state === 'open' && e.state !== 'open') return false;
  if (q.state === 'settled' && e.state !== 'Success' && e.state !== 'Failed') return false;
  return q.result === undefined || e.state === q.result || entryResult(e) === q.result;
}

/** The entries that match, newest first (by openedAt). Throws a ValidationError naming a wrong field. */
export function queryJournal(entries: readonly JournalEntry[], q: JournalQuery = {}): JournalEntry[] {
  validateJournalQuery(q);
  const inPeriod = periodTest(q);
  const out: JournalEntry[] = [];
  for (const e of entries) {
    if (q.terminal !== undefined && e.terminal !== q.terminal) continue;
    if (!stateMatches(e, q)) continue;
    if (!inPeriod(e.openedAt)) continue;
    out.push(e);
  }
  out.sort((a, b) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0));
  return q.limit !== undefined && out.length > q.limit ? out.slice(0, q.limit) : out;
}
