import { journalKey, type JournalEntry } from './journal';
import { amountToMinor, minorToAmount } from './journal-amounts';
import { periodTest, type JournalPeriod } from './journal-time';

/**
 * What an entry came to, in one word:
 * - `open`: sent, outcome not known yet (or never learnt);
 * - `approved`: a Sale or Refund the terminal took;
 * - `voided`: a Void that went through, or a Sale / Refund a lookup found voided;
 * - `declined`: refused (a Void refused included);
 * - `not-sent`: never left this host (not counted anywhere).
 */
export type EntryResult = 'open' | 'approved' | 'voided' | 'declined' | 'not-sent';

export function entryResult(entry: JournalEntry): EntryResult {
  if (entry.state === 'open') return 'open';
  if (entry.state === 'NotSent') return 'not-sent';
  const verdict = entry.outcome?.verdict;
  if (verdict === 'approved' || verdict === 'declined' || verdict === 'voided') {
    // A Void that went through is "voided" whatever word its outcome used.
    if (entry.action === 'Void' && verdict === 'approved') return 'voided';
    return verdict;
  }
  if (entry.state === 'Success') return entry.action === 'Void' ? 'voided' : 'approved';
  if (entry.state === 'Failed') return 'declined';
  return 'open';
}

export interface CountAndAmount {
  count: number;
  /** Exact decimal, two places ("123.45"). */
  amount: string;
}

/** Totals of one terminal in one currency. */
export interface TotalsRow {
  terminal: string;
  currency: string;
  /** Sales the terminal approved (a sale voided later still counts here, and its void under `voids`). */
  sales: CountAndAmount;
  /** Refunds the terminal approved. */
  refunds: CountAndAmount;
  /** Voids that went through, at the amount of the transaction voided. */
  voids: CountAndAmount;
  /** Refused payments (sales, refunds, voids). */
  declined: { count: number };
  /** Payments whose outcome is not known (open). */
  unknown: { count: number };
  /** Entries counted above whose amount is not known (a void whose transaction is in no journal read): not in any sum. */
  unpriced: { count: number };
  /** sales − refunds − voided sales + voided refunds: what the period took. */
  net: string;
}

interface Acc {
  terminal: string;
  currency: string;
  sales: [number, bigint];
  refunds: [number, bigint];
  voids: [number, bigint];
  declined: number;
  unknown: number;
  unpriced: number;
  net: bigint;
}

export type TotalsOptions = JournalPeriod & { terminal?: string };

/**
 * Totals per terminal and currency of the entries opened in the period.
 * Sums in bigint minor units, written as exact decimals. A Void's amount and
 * currency are those of the transaction it voided (looked up among all the
 * entries given, whatever their time); a Sale or Refund a lookup found
 * voided counts both as taken and as voided, unless a Void entry already
 * counts that void.
 */
export function journalTotals(entries: readonly JournalEntry[], options: TotalsOptions = {}): TotalsRow[] {
  const inPeriod = periodTest(options);
  // Transactions by terminal and key, and the ones a Void entry voided (so a voided sale's void counts once).
  const byKey = new Map<string, JournalEntry>();
  const voidedByVoid = new Set<string>();
  for (const e of entries) {
    byKey.set(`${e.terminal}\u0000${journalKey(e.action, e.referenceID)}`, e);
    if (e.action === 'Void' && entryResult(e) === 'voided') voidedByVoid.add(`${e.terminal}\u0000${e.referenceID}`);
  }
  const rows = new Map<string, Acc>();
  const row = (terminal: string, currency: string): Acc => {
    const key = `${terminal}\u0000${currency}`;
    let acc = rows.get(key);
    if (acc === undefined) {
      acc = { terminal, currency, sales: [0, 0n], refunds: [0, 0n], voids: [0, 0n], declined: 0, unknown: 0, unpriced: 0, net: 0n };
      rows.set(key, acc);
    }
    return acc;
  };
  for (const e of entries) {
    if (options.terminal !== undefined && e.terminal !== options.terminal) continue;
    const result = entryResult(e);
    if (result === 'not-sent' || !inPeriod(e.openedAt)) continue;
    const target = e.action === 'Void' ? byKey.get(`${e.terminal}\u0000${e.referenceID}`) : undefined;
    const currency = e.currency ?? target?.currency ?? e.outcome?.currency ?? '';
    const acc = row(e.terminal, currency);
    if (result === 'open') {
      acc.unknown++;
      continue;
    }
    if (result === 'declined') {
      acc.declined++;
      continue;
    }
    const minor = amountToMinor(e.amount ?? target?.amount ?? e.outcome?.amount);
    if (minor === undefined) acc.unpriced++;
    const amount = minor ?? 0n;
    if (e.action === 'Void') {
      // result is 'voided'
      acc.voids[0]++;
      acc.voids[1] += amount;
      acc.net += target?.action === 'Refund' ? amount : -amount;
      continue;
    }
    const bucket = e.action === 'Refund' ? acc.refunds : acc.sales;
    bucket[0]++;
    bucket[1] += amount;
    acc.net += e.action === 'Refund' ? -amount : amount;
    if (result === 'voided' && !voidedByVoid.has(`${e.terminal}\u0000${e.referenceID}`)) {
      // Voided elsewhere (at the terminal, say): its void belongs to the same period.
      acc.voids[0]++;
      acc.voids[1] += amount;
      acc.net += e.action === 'Refund' ? amount : -amount;
    }
  }
  const pair = ([count, minor]: [number, bigint]): CountAndAmount => ({ count, amount: minorToAmount(minor) });
  return [...rows.values()]
    .sort((a, b) => (a.terminal < b.terminal ? -1 : a.terminal > b.terminal ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
    .map((a) => ({
      terminal: a.terminal,
      currency: a.currency,
      sales: pair(a.sales),
      refunds: pair(a.refunds),
      voids: pair(a.voids),
      declined: { count: a.declined },
      unknown: { count: a.unknown },
      unpriced: { count: a.unpriced },
      net: minorToAmount(a.net),
    }));
}
