import { journalKey, type JournalEntry } from '../ledger';
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
  const state = entry.state;
  if (state === 'open') return 'open';
  if (state === 'NotSent') return 'not-sent';
  const verdict = entry.outcome?.verdict;
  if (verdict === 'approved' || verdict === 'declined' || verdict === 'voided') {
    // A Void that went through is "voided" whatever word its outcome used.
    if (verdict === 'approved' && entry.action === 'Void') return 'voided';
    return verdict;
  }
  if (state === 'Success') return entry.action === 'Void' ? 'voided' : 'approved';
  if (state === 'Failed') return 'declined';
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

/** A running sum of minor units: exact integers in a number while they stay safe, carried to a bigint before they could not. */
class Sum {
  private small = 0;
  private big = 0n;
  count = 0;

  add(minor: number | bigint): void {
    if (typeof minor === 'bigint') {
      this.big += minor;
      return;
    }
    this.small += minor;
    if (this.small > CARRY || this.small < -CARRY) {
      this.big += BigInt(this.small);
      this.small = 0;
    }
  }

  get total(): bigint {
    return this.big + BigInt(this.small);
  }
}

/** Where a Sum carries to its bigint: the number stays below 2^50 + the largest number minorOf gives (< 10^14 < 2^47), so below 2^53, exact. */
const CARRY = 2 ** 50;

/**
 * Minor units of an amount string as an exact integer: a number when it has
 * at most 12 whole digits (< 2^50 together with what a Sum carries), a
 * bigint beyond, undefined when it is not an amount.
 */
function minorOf(value: unknown): number | bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const n = value.length;
  const dot = value.indexOf('.');
  const wholeEnd = dot < 0 ? n : dot;
  if (wholeEnd === 0 || wholeEnd > 12 || (dot >= 0 && (n - dot - 1 < 1 || n - dot - 1 > 2))) return amountToMinor(value);
  let minor = 0;
  for (let i = 0; i < wholeEnd; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return amountToMinor(value);
    minor = minor * 10 + c;
  }
  let cents = 0;
  for (let i = wholeEnd + 1, places = 0; places < 2; i++, places++) {
    const c = i < n ? value.charCodeAt(i) - 48 : 0;
    if (c < 0 || c > 9) return amountToMinor(value);
    cents = cents * 10 + c;
  }
  return minor * 100 + cents;
}

const negate = (minor: number | bigint): number | bigint => (typeof minor === 'bigint' ? -minor : -minor);

interface Acc {
  terminal: string;
  currency: string;
  sales: Sum;
  refunds: Sum;
  voids: Sum;
  declined: number;
  unknown: number;
  unpriced: number;
  net: Sum;
}

export type TotalsOptions = JournalPeriod & { terminal?: string };

/**
 * Totals per terminal and currency of the entries opened in the period.
 * Sums in exact integer minor units (bigint where they grow large), written
 * as exact decimals; never binary fractions. A Void's amount and currency
 * are those of the transaction it voided (looked up among all the entries
 * given, whatever their time); a Sale or Refund a lookup found voided
 * counts both as taken and as voided, unless a Void entry already counts
 * that void.
 */
export function journalTotals(entries: readonly JournalEntry[], options: TotalsOptions = {}): TotalsRow[] {
  const inPeriod = periodTest(options);
  // The voids first (few), then the transactions they voided, so a voided sale's void counts once.
  // (Each entry's fields are read once: entries parsed from JSON come in many shapes.)
  const voided = new Map<string, Map<string, boolean>>();
  for (const e of entries) {
    if (e.action !== 'Void') continue;
    let refs = voided.get(e.terminal);
    if (refs === undefined) voided.set(e.terminal, (refs = new Map()));
    if (refs.get(e.referenceID) !== true) refs.set(e.referenceID, entryResult(e) === 'voided');
  }
  const targets = new Map<string, Map<string, JournalEntry>>();
  if (voided.size > 0) {
    for (const e of entries) {
      const action = e.action;
      if (action === 'Void') continue;
      const terminal = e.terminal;
      const refs = voided.get(terminal);
      if (refs === undefined || !refs.has(e.referenceID)) continue;
      let byRef = targets.get(terminal);
      if (byRef === undefined) targets.set(terminal, (byRef = new Map()));
      byRef.set(journalKey(action, e.referenceID), e);
    }
  }
  const rows = new Map<string, Map<string, Acc>>();
  let last: Acc | undefined;
  const row = (terminal: string, currency: string): Acc => {
    if (last !== undefined && last.terminal === terminal && last.currency === currency) return last;
    let byCurrency = rows.get(terminal);
    if (byCurrency === undefined) rows.set(terminal, (byCurrency = new Map()));
    let acc = byCurrency.get(currency);
    if (acc === undefined) {
      acc = { terminal, currency, sales: new Sum(), refunds: new Sum(), voids: new Sum(), declined: 0, unknown: 0, unpriced: 0, net: new Sum() };
      byCurrency.set(currency, acc);
    }
    last = acc;
    return acc;
  };
  const onlyTerminal = options.terminal;
  for (const e of entries) {
    const terminal = e.terminal;
    if (onlyTerminal !== undefined && terminal !== onlyTerminal) continue;
    if (!inPeriod(e.openedAt)) continue;
    const result = entryResult(e);
    if (result === 'not-sent') continue;
    const action = e.action;
    const referenceID = e.referenceID;
    const target = action === 'Void' ? targets.get(terminal)?.get(referenceID) : undefined;
    const outcome = e.outcome;
    const acc = row(terminal, e.currency ?? target?.currency ?? outcome?.currency ?? '');
    if (result === 'open') {
      acc.unknown++;
      continue;
    }
    if (result === 'declined') {
      acc.declined++;
      continue;
    }
    let minor = minorOf(e.amount ?? target?.amount ?? outcome?.amount);
    if (minor === undefined) {
      acc.unpriced++;
      minor = 0;
    }
    if (action === 'Void') {
      // result is 'voided'
      acc.voids.count++;
      acc.voids.add(minor);
      acc.net.add(target?.action === 'Refund' ? minor : negate(minor));
      continue;
    }
    const refund = action === 'Refund';
    const bucket = refund ? acc.refunds : acc.sales;
    bucket.count++;
    bucket.add(minor);
    acc.net.add(refund ? negate(minor) : minor);
    if (result === 'voided' && voided.get(terminal)?.get(referenceID) !== true) {
      // Voided elsewhere (at the terminal, say): its void belongs to the same period.
      acc.voids.count++;
      acc.voids.add(minor);
      acc.net.add(refund ? minor : negate(minor));
    }
  }
  const pair = (sum: Sum): CountAndAmount => ({ count: sum.count, amount: minorToAmount(sum.total) });
  const all: Acc[] = [];
  for (const byCurrency of rows.values()) for (const acc of byCurrency.values()) all.push(acc);
  return all
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
      net: minorToAmount(a.net.total),
    }));
}
