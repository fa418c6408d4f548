import { journalKey, type JournalEntry, type JournalAction } from './journal';
import { amountToMinor, minorToAmount } from './journal-amounts';
import { periodTest } from './journal-time';
import { entryResult, type TotalsOptions, type TotalsRow } from './journal-totals';

/*
 * One period of one journal (today, say), kept up to date from the
 * journal's changes: the entries opened in it, newest last, and their
 * totals. A change costs in proportion to itself, not to the period: an
 * entry's share of the totals is taken out and its new share put in (and
 * those of the entries it depends on: a void and the transaction it voided).
 * The answers are journalTotals' and queryJournal's over the same entries.
 */

/** An entry's share of its row: the figures journalTotals adds for it. */
interface Share {
  row: string;
  terminal: string;
  currency: string;
  sales: bigint;
  salesCount: number;
  refunds: bigint;
  refundsCount: number;
  voids: bigint;
  voidsCount: number;
  declined: number;
  unknown: number;
  unpriced: number;
  net: bigint;
}

type Row = Omit<Share, 'row'> & { shares: number };

/** Finds an entry of the journal by its key (the journal's in-memory view). */
export type JournalLookup = (action: JournalAction, referenceID: string) => JournalEntry | undefined;

export interface PeriodList {
  count: number;
  /** Newest first, at most `limit`. */
  entries: JournalEntry[];
}

function blank(terminal: string, currency: string): Omit<Share, 'row'> {
  return { terminal, currency, sales: 0n, salesCount: 0, refunds: 0n, refundsCount: 0, voids: 0n, voidsCount: 0, declined: 0, unknown: 0, unpriced: 0, net: 0n };
}

export class PeriodView {
  private readonly inPeriod: (openedAt: string | undefined) => boolean;
  /** The period's entries, by key. */
  private readonly entries = new Map<string, JournalEntry>();
  /** Their keys in order of openedAt (ties: order of arrival). */
  private order: Array<{ at: string; key: string }> = [];
  private readonly shares = new Map<string, Share>();
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly options: TotalsOptions,
    private readonly lookup: JournalLookup,
  ) {
    this.inPeriod = periodTest(options);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Folds in entries changed (their latest state; a key seen twice: the later wins). */
  apply(changed: Iterable<JournalEntry>): void {
    const touched = new Set<string>();
    for (const e of changed) {
      const key = journalKey(e.action, e.referenceID);
      this.place(key, e);
      // A void's share depends on its transaction's, and a transaction's on its void.
      touched.add(e.referenceID);
    }
    for (const ref of touched) {
      this.reshare(ref);
      this.reshare(`Void:${ref}`);
    }
  }

  /** The period's totals, as journalTotals gives them. */
  totals(): TotalsRow[] {
    return [...this.rows.values()]
      .sort((a, b) => (a.terminal < b.terminal ? -1 : a.terminal > b.terminal ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
      .map((r) => ({
        terminal: r.terminal,
        currency: r.currency,
        sales: { count: r.salesCount, amount: minorToAmount(r.sales) },
        refunds: { count: r.refundsCount, amount: minorToAmount(r.refunds) },
        voids: { count: r.voidsCount, amount: minorToAmount(r.voids) },
        declined: { count: r.declined },
        unknown: { count: r.unknown },
        unpriced: { count: r.unpriced },
        net: minorToAmount(r.net),
      }));
  }

  /** The period's entries that pass `keep`, newest first: how many, and the first `limit`. */
  list(limit: number, keep?: (e: JournalEntry) => boolean): PeriodList {
    const out: JournalEntry[] = [];
    if (keep === undefined) {
      for (let i = this.order.length - 1; i >= 0 && out.length < limit; i--) out.push(this.entries.get(this.order[i]!.key)!);
      return { count: this.order.length, entries: out };
    }
    let count = 0;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const e = this.entries.get(this.order[i]!.key)!;
      if (!keep(e)) continue;
      count++;
      if (out.length < limit) out.push(e);
    }
    return { count, entries: out };
  }

  private wanted(e: JournalEntry): boolean {
    return (this.options.terminal === undefined || e.terminal === this.options.terminal) && this.inPeriod(e.openedAt);
  }

  /** Keeps the entry's latest state, in the period's order where it is in the period. */
  private place(key: string, e: JournalEntry): void {
    const known = this.entries.get(key);
    if (known !== undefined && (known.openedAt !== e.openedAt || !this.wanted(e))) {
      this.unorder(key, known.openedAt);
      this.entries.delete(key);
    }
    if (!this.wanted(e)) return;
    if (this.entries.has(key)) {
      this.entries.set(key, e);
      return;
    }
    this.entries.set(key, e);
    // After every entry opened at the same time or before (entries mostly come newest last: a look at the end first).
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    if (hi === 0 || order[hi - 1]!.at <= e.openedAt) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]!.at <= e.openedAt) lo = mid + 1;
      else hi = mid;
    }
    if (lo === order.length) order.push({ at: e.openedAt, key });
    else order.splice(lo, 0, { at: e.openedAt, key });
  }

  private unorder(key: string, at: string): void {
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < order.length && order[i]!.at === at; i++) {
      if (order[i]!.key === key) {
        order.splice(i, 1);
        return;
      }
    }
  }

  /** Takes the entry's share out of its row and puts its share now in. */
  private reshare(key: string): void {
    const old = this.shares.get(key);
    if (old !== undefined) {
      this.add(old, -1);
      this.shares.delete(key);
    }
    const e = this.entries.get(key);
    const share = e === undefined ? undefined : this.shareOf(e);
    if (share !== undefined) {
      this.add(share, 1);
      this.shares.set(key, share);
    }
  }

  private add(s: Share, sign: 1 | -1): void {
    let row = this.rows.get(s.row);
    if (row === undefined) this.rows.set(s.row, (row = { ...blank(s.terminal, s.currency), shares: 0 }));
    const n = BigInt(sign);
    row.sales += n * s.sales;
    row.salesCount += sign * s.salesCount;
    row.refunds += n * s.refunds;
    row.refundsCount += sign * s.refundsCount;
    row.voids += n * s.voids;
    row.voidsCount += sign * s.voidsCount;
    row.declined += sign * s.declined;
    row.unknown += sign * s.unknown;
    row.unpriced += sign * s.unpriced;
    row.net += n * s.net;
    row.shares += sign;
    if (row.shares === 0) this.rows.delete(s.row);
  }

  /** What journalTotals counts for this entry (see there), undefined for nothing (never sent). */
  private shareOf(e: JournalEntry): Share | undefined {
    const result = entryResult(e);
    if (result === 'not-sent') return undefined;
    const terminal = e.terminal;
    let target: JournalEntry | undefined;
    if (e.action === 'Void') {
      const t = this.lookup('Sale', e.referenceID);
      if (t !== undefined && t.action !== 'Void' && t.terminal === terminal) target = t;
    }
    const currency = e.currency ?? target?.currency ?? e.outcome?.currency ?? '';
    const s: Share = { row: `${terminal}\u0000${currency}`, ...blank(terminal, currency) };
    if (result === 'open') {
      s.unknown = 1;
      return s;
    }
    if (result === 'declined') {
      s.declined = 1;
      return s;
    }
    let minor = amountToMinor(e.amount ?? target?.amount ?? e.outcome?.amount);
    if (minor === undefined) {
      s.unpriced = 1;
      minor = 0n;
    }
    if (e.action === 'Void') {
      s.voidsCount = 1;
      s.voids = minor;
      s.net = target?.action === 'Refund' ? minor : -minor;
      return s;
    }
    const refund = e.action === 'Refund';
    if (refund) {
      s.refundsCount = 1;
      s.refunds = minor;
    } else {
      s.salesCount = 1;
      s.sales = minor;
    }
    s.net = refund ? -minor : minor;
    if (result === 'voided') {
      const v = this.lookup('Void', e.referenceID);
      const countedByVoid = v !== undefined && v.terminal === terminal && entryResult(v) === 'voided';
      if (!countedByVoid) {
        s.voidsCount = 1;
        s.voids = minor;
        s.net += refund ? minor : -minor;
      }
    }
    return s;
  }
}
