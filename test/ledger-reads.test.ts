import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import {
  amountToMinor, csvCell, csvLine, isoBound, JOURNAL_CSV_COLUMNS, LedgerReader, migrate, MIGRATIONS, minorToAmount, periodBounds, READ_OPS, paymentResult, totalsRows,
  validateJournalQuery, type JournalQuery, type ReadQuery, type TotalsRow,
} from '../lib/ledger';
import { insertEntries, ledgerWith, openFixtureLedger, type FixtureEntry } from './helpers/ledger-fixture';

/*
 * The operator tools' queries on a real SQLite ledger (the promises the
 * journal's readers kept: the outcome classification, exact sums, voids at
 * their transaction's amount, periods, lists newest first, a CSV a
 * spreadsheet cannot run).
 */

let seq = 0;
function entry(over: Partial<FixtureEntry>): FixtureEntry {
  seq++;
  return {
    referenceID: `R-${seq}`,
    action: 'Sale',
    amount: '10.00',
    currency: 'TWD',
    terminal: 'T1',
    requestID: `q-${seq}`,
    state: 'Success',
    openedAt: '2026-11-29T08:00:00.000Z',
    outcome: { verdict: 'approved', reason: 'approved' },
    ...over,
  };
}

/** A ledger in memory with the package's schema, holding `entries`. */
function memoryLedger(entries: FixtureEntry[]): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  insertEntries(db, entries);
  return db;
}

/** The query of a journal-style period and terminal. */
function queryOf(q: JournalQuery = {}): ReadQuery {
  const { from, to } = periodBounds(q);
  return {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(q.terminal !== undefined ? { terminals: { configNodes: [], names: [q.terminal] } } : {}),
    ...(q.state !== undefined ? { state: q.state } : {}),
    ...(q.result !== undefined ? { result: q.result } : {}),
  };
}

function totalsOf(entries: FixtureEntry[], q: JournalQuery = {}): TotalsRow[] {
  const db = memoryLedger(entries);
  try {
    return totalsRows(READ_OPS.totals(db, { query: queryOf(q) }), (g) => g.terminal);
  } finally {
    db.close();
  }
}

function listOf(entries: FixtureEntry[], q: JournalQuery = {}): string[] {
  const db = memoryLedger(entries);
  try {
    return READ_OPS.page(db, { query: queryOf(q), order: 'newest', limit: q.limit ?? 1_000 }).rows.map((r) => r.entry.referenceID);
  } finally {
    db.close();
  }
}

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF records), for the round trip. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        cell += c;
        i++;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else {
      assert.ok(c !== '"' && c !== '\n' && c !== '\r', `bare ${JSON.stringify(c)} outside quotes at ${i}`);
      cell += c;
      i++;
    }
  }
  assert.equal(cell, '', 'the CSV ends with CRLF');
  assert.equal(row.length, 0);
  return rows;
}

describe('ledger reads: classification (table)', () => {
  const cases: Array<[string, Partial<FixtureEntry>, string, Record<string, unknown>]> = [
    ['approved sale', {}, 'approved', { sales: [1, '10.00'], net: '10.00' }],
    ['declined sale', { state: 'Failed', outcome: { verdict: 'declined', reason: 'declined' } }, 'declined', { declined: 1, net: '0.00' }],
    ['open sale', { state: 'open', outcome: undefined }, 'open', { unknown: 1, net: '0.00' }],
    ['never sent', { state: 'NotSent', outcome: undefined }, 'not-sent', { rows: 0 }],
    ['approved refund', { action: 'Refund', orgReferenceID: 'S-0' }, 'approved', { refunds: [1, '10.00'], net: '-10.00' }],
    ['declined refund', { action: 'Refund', state: 'Failed', outcome: { verdict: 'declined' } }, 'declined', { declined: 1 }],
    ['sale found voided by a lookup', { state: 'Failed', outcome: { verdict: 'voided', reason: 'voided' } }, 'voided', { sales: [1, '10.00'], voids: [1, '10.00'], net: '0.00' }],
    ['settled without a verdict: Success', { outcome: undefined }, 'approved', { sales: [1, '10.00'] }],
    ['settled without a verdict: Failed', { state: 'Failed', outcome: undefined }, 'declined', { declined: 1 }],
    ['void refused', { action: 'Void', amount: undefined, currency: undefined, state: 'Failed', outcome: { verdict: 'declined', reason: 'void-refused' } }, 'declined', { declined: 1, currency: '' }],
    ['open void', { action: 'Void', amount: undefined, currency: undefined, state: 'open', outcome: undefined }, 'open', { unknown: 1, currency: '' }],
    ['void with no transaction known: unpriced', { action: 'Void', amount: undefined, currency: undefined, outcome: { verdict: 'voided' } }, 'voided', { voids: [1, '0.00'], unpriced: 1, currency: '' }],
    ['amount known only from the answer', { amount: undefined, currency: undefined, outcome: { verdict: 'approved', amount: '7.50', currency: 'HKD' } }, 'approved', { sales: [1, '7.50'], currency: 'HKD' }],
  ];
  for (const [name, over, result, expect] of cases) {
    it(name, () => {
      const e = entry(over);
      assert.equal(paymentResult(e.action, e.state, e.outcome?.verdict), result);
      const rows = totalsOf([e]);
      if (expect.rows === 0) {
        assert.deepEqual(rows, []);
        return;
      }
      assert.equal(rows.length, 1);
      const r = rows[0]!;
      const pair = (p: { count: number; amount: string }) => [p.count, p.amount];
      assert.deepEqual(pair(r.sales), expect.sales ?? [0, '0.00']);
      assert.deepEqual(pair(r.refunds), expect.refunds ?? [0, '0.00']);
      assert.deepEqual(pair(r.voids), expect.voids ?? [0, '0.00']);
      assert.equal(r.declined.count, expect.declined ?? 0);
      assert.equal(r.unknown.count, expect.unknown ?? 0);
      assert.equal(r.unpriced.count, expect.unpriced ?? 0);
      if (expect.net !== undefined) assert.equal(r.net, expect.net);
      assert.equal(r.currency, expect.currency ?? 'TWD');
      // The list's result word is the same.
      const db = memoryLedger([e]);
      assert.equal(READ_OPS.page(db, { query: {}, order: 'newest', limit: 10 }).rows[0]!.result, result);
      db.close();
    });
  }

  it('a void through the ECR: the sale counts, its void counts once at the sale amount, net is zero', () => {
    const sale = entry({ referenceID: 'S-1', amount: '123.45' });
    const voided = entry({ referenceID: 'S-1', action: 'Void', amount: undefined, currency: undefined, orgReferenceID: 'S-1', outcome: { verdict: 'voided' } });
    // The sale's own lookup later also says Voided: still one void.
    const saleSeenVoided = { ...sale, state: 'Failed' as const, outcome: { verdict: 'voided' } };
    for (const set of [[sale, voided], [saleSeenVoided, voided]]) {
      const [r] = totalsOf(set);
      assert.deepEqual([r!.sales.count, r!.sales.amount, r!.voids.count, r!.voids.amount, r!.net, r!.currency], [1, '123.45', 1, '123.45', '0.00', 'TWD']);
    }
  });

  it('a voided refund gives the money back to the net', () => {
    const refund = entry({ referenceID: 'F-1', action: 'Refund', amount: '5.00' });
    const voided = entry({ referenceID: 'F-1', action: 'Void', amount: undefined, currency: undefined, outcome: { verdict: 'voided' } });
    const [r] = totalsOf([refund, voided]);
    assert.deepEqual([r!.refunds.amount, r!.voids.amount, r!.net], ['5.00', '5.00', '0.00']);
  });

  it("a void today of last month's sale: today shows the void, at the sale's amount and currency", () => {
    const sale = entry({ referenceID: 'S-2', amount: '40.00', currency: 'HKD', openedAt: '2026-10-28T10:00:00.000Z' });
    const voided = entry({ referenceID: 'S-2', action: 'Void', amount: undefined, currency: undefined, openedAt: '2026-11-29T10:00:00.000Z', outcome: { verdict: 'voided' } });
    const [r] = totalsOf([sale, voided], { from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z' });
    assert.deepEqual([r!.currency, r!.sales.count, r!.voids.amount, r!.unpriced.count, r!.net], ['HKD', 0, '40.00', 0, '-40.00']);
  });

  it('rows per terminal and currency, filtered by terminal and period (from inclusive, to exclusive)', () => {
    const es = [
      entry({ terminal: 'A', amount: '1.10' }), entry({ terminal: 'A', amount: '2.20', currency: 'USD' }),
      entry({ terminal: 'B', amount: '3.30' }), entry({ terminal: 'A', amount: '4.40', openedAt: '2026-11-30T00:00:00.000Z' }),
      entry({ terminal: 'A', amount: '5.50', openedAt: '2026-11-29T07:59:59.999+08:00' }),
    ];
    const all = totalsOf(es);
    assert.deepEqual(all.map((r) => [r.terminal, r.currency, r.sales.amount]), [['A', 'TWD', '11.00'], ['A', 'USD', '2.20'], ['B', 'TWD', '3.30']]);
    const day = totalsOf(es, { terminal: 'A', from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z' });
    assert.deepEqual(day.map((r) => [r.currency, r.sales.amount]), [['TWD', '1.10'], ['USD', '2.20']]);
    const local = totalsOf(es, { terminal: 'A', from: '2026-11-29T00:00:00+08:00', to: '2026-11-29T08:00:00Z' });
    assert.deepEqual(local.map((r) => r.sales.amount), ['5.50']);
  });

  it('amounts written with other decimals than two: added exactly, at least two decimals shown', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    // The writer keeps the decimals written: 12 (exponent 0), 0.5 (1), 1.255 (3).
    const insert = db.prepare(`INSERT INTO payments (key, reference, kind, terminal, request_id, amount_minor, currency, exponent, state, opened_at, verdict) VALUES (?, ?, 'Sale', 'T1', ?, ?, 'TWD', ?, 'Success', 1, 'approved')`);
    for (const [ref, minor, exponent] of [['a', 12, 0], ['b', 5, 1], ['c', 1255, 3]] as const) insert.run(ref, ref, ref, minor, exponent);
    const [r] = totalsRows(READ_OPS.totals(db, { query: {} }), (g) => g.terminal);
    assert.deepEqual([r!.sales.count, r!.sales.amount, r!.net], [3, '13.755', '13.755']);
    db.close();
  });

  it('a date alone is the host\'s local midnight; a time without an offset local time', () => {
    assert.equal(isoBound('2026-11-29', 'from'), new Date(2026, 10, 29).getTime());
    assert.equal(isoBound('2026-11-29T08:30', 'from'), new Date(2026, 10, 29, 8, 30).getTime());
    assert.equal(isoBound('2026-11-29T08:30:00+08:00', 'from'), Date.UTC(2026, 10, 29, 0, 30));
  });

  it('bad queries are errors naming the field', () => {
    const field = (f: string) => (e: Error & { field?: string }) => e.field === f;
    assert.throws(() => validateJournalQuery({ from: 'yesterday' }), (e: Error & { field?: string }) => e.field === 'from' && /ISO 8601/.test(e.message));
    assert.throws(() => validateJournalQuery({ to: '2026-13-45' }), field('to'));
    assert.throws(() => validateJournalQuery({ from: '2026-11-30', to: '2026-11-29' }), field('to'));
    assert.throws(() => validateJournalQuery({ state: 'closed' as 'open' }), field('state'));
    assert.throws(() => validateJournalQuery({ limit: 0 }), field('limit'));
    assert.throws(() => validateJournalQuery({ result: 'won' }), field('result'));
  });

  it('lists: newest first, by state, result, terminal, period and limit', () => {
    const es = [
      entry({ referenceID: 'x1', openedAt: '2026-11-29T01:00:00.000Z' }),
      entry({ referenceID: 'x2', openedAt: '2026-11-29T03:00:00.000Z', state: 'open', outcome: undefined }),
      entry({ referenceID: 'x3', openedAt: '2026-11-29T02:00:00.000Z', state: 'Failed', outcome: { verdict: 'declined' }, terminal: 'T2' }),
      entry({ referenceID: 'x4', openedAt: '2026-11-29T04:00:00.000Z', state: 'NotSent', outcome: undefined }),
    ];
    assert.deepEqual(listOf(es), ['x4', 'x2', 'x3', 'x1']);
    assert.deepEqual(listOf(es, { state: 'open' }), ['x2']);
    assert.deepEqual(listOf(es, { state: 'settled' }), ['x3', 'x1']);
    assert.deepEqual(listOf(es, { result: 'declined' }), ['x3']);
    assert.deepEqual(listOf(es, { result: 'Failed' }), ['x3']);
    assert.deepEqual(listOf(es, { result: 'not-sent' }), ['x4']);
    assert.deepEqual(listOf(es, { terminal: 'T1', limit: 2 }), ['x4', 'x2']);
    assert.deepEqual(listOf(es, { from: '2026-11-29T02:00:00Z', to: '2026-11-29T04:00:00Z' }), ['x2', 'x3']);
    const db = memoryLedger(es);
    assert.equal(READ_OPS.count(db, { query: queryOf({ state: 'settled' }) }), 2);
    assert.equal(READ_OPS.count(db, { query: {} }), 4);
    db.close();
  });

  it('a page gives the entry as the journal did (amounts, outcome fields), and a void the amount of what it voided', () => {
    const sale = entry({ referenceID: 'P-1', amount: '8.80', openedAt: '2026-11-29T01:00:00.000Z', closedAt: '2026-11-29T01:00:05.000Z', node: 'n1', outcome: { verdict: 'approved', reason: 'approved', rrn: '123456789012', transactionStatus: 'Success' } });
    const voided = entry({ referenceID: 'P-1', action: 'Void', amount: undefined, currency: undefined, orgReferenceID: 'P-1', openedAt: '2026-11-29T02:00:00.000Z', outcome: { verdict: 'voided' } });
    const db = memoryLedger([sale, voided]);
    const [v, s] = READ_OPS.page(db, { query: {}, order: 'newest', limit: 10 }).rows;
    assert.deepEqual(s!.entry, {
      referenceID: 'P-1', action: 'Sale', amount: '8.80', currency: 'TWD', terminal: 'T1', node: 'n1', requestID: sale.requestID, state: 'Success',
      openedAt: sale.openedAt, closedAt: sale.closedAt, outcome: { transactionStatus: 'Success', rrn: '123456789012', verdict: 'approved', reason: 'approved' },
    });
    assert.deepEqual([v!.entry.action, v!.result, v!.voided], ['Void', 'voided', { amount: '8.80', currency: 'TWD' }]);
    db.close();
  });
});

describe('ledger reads: exact sums (property)', () => {
  const amount = fc.bigInt({ min: 1n, max: 99_999_999_999_99n }).map((minor) => ({ minor, text: minorToAmount(minor) }));

  it('amounts round-trip through minor units', () => {
    fc.assert(fc.property(amount, ({ minor, text }) => amountToMinor(text) === minor));
    assert.equal(amountToMinor('0.1'), 10n);
    assert.equal(amountToMinor('1e3'), undefined);
    assert.equal(minorToAmount(-305n), '-3.05');
    assert.equal(minorToAmount(1255n, 3), '1.255');
  });

  it('sums of random sales and refunds equal the bigint sums', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: amount, refund: fc.boolean(), declined: fc.boolean() }), { maxLength: 100 }), (items) => {
        const es = items.map(({ a, refund, declined }) => entry({ action: refund ? 'Refund' : 'Sale', amount: a.text, ...(declined ? { state: 'Failed', outcome: { verdict: 'declined' } } : {}) }));
        let sales = 0n;
        let refunds = 0n;
        for (const { a, refund, declined } of items) {
          if (declined) continue;
          if (refund) refunds += a.minor;
          else sales += a.minor;
        }
        const rows = totalsOf(es);
        if (items.length === 0) return rows.length === 0;
        const r = rows[0]!;
        return r.sales.amount === minorToAmount(sales) && r.refunds.amount === minorToAmount(refunds) && r.net === minorToAmount(sales - refunds) && r.declined.count === items.filter((i) => i.declined).length;
      }),
      { numRuns: 50 },
    );
  });

  it('large amounts and long sums stay exact (beyond 2^53 minor units)', () => {
    const many = Array.from({ length: 5_000 }, () => entry({ amount: '99999999999.99' }));
    const [r] = totalsOf(many);
    assert.equal(r!.sales.amount, minorToAmount(9999999999999n * 5_000n));
    assert.ok(9999999999999n * 5_000n > BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('0.10 + 0.20 is 0.30 (not 0.30000000000000004)', () => {
    const [r] = totalsOf([entry({ amount: '0.10' }), entry({ amount: '0.20' })]);
    assert.equal(r!.sales.amount, '0.30');
  });
});

describe('ledger reads: totals by day (payment_days)', () => {
  const DAY = 86_400_000;
  const BASE = Date.UTC(2026, 10, 20);
  /** A payment's group (few of them, so that many payments share one): terminal, config node, SN, currency, kind, state, verdict. */
  const group = fc.record({
    kind: fc.constantFrom('Sale', 'Refund', 'Void'),
    terminal: fc.constantFrom('A', 'B'),
    configNode: fc.constantFrom(null, 'n1', 'n2'),
    sn: fc.constantFrom(null, 'SN1', 'SN2'),
    currency: fc.constantFrom(null, 'TWD', 'USD'),
    exponent: fc.constantFrom(null, 0, 2),
    state: fc.constantFrom('open', 'Success', 'Failed', 'NotSent'),
    verdict: fc.constantFrom(null, 'approved', 'declined', 'voided'),
    answerAmount: fc.constantFrom(null, '10.50', 'x'),
    answerCurrency: fc.constantFrom(null, 'TWD'),
  });
  /** A payment's own fields: its reference (a Void voids the Sale or Refund of its reference), amount and opening time over five days and the day before. */
  const own = fc.record({ ref: fc.integer({ min: 0, max: 7 }), amount: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: null }), at: fc.integer({ min: -DAY, max: 5 * DAY }) });
  /** Payments of up to four groups. */
  const payments = fc
    .tuple(fc.array(group, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), own), { maxLength: 30 }))
    .map(([groups, rows]) => rows.map(([g, r]) => ({ ...groups[g % groups.length]!, ...r })));
  const payment = fc.tuple(group, own).map(([g, r]) => ({ ...g, ...r }));
  type Payment = typeof payment extends fc.Arbitrary<infer T> ? T : never;
  const change = fc.record({
    which: fc.nat(),
    what: fc.constantFrom('settle', 'state', 'verdict', 'sn', 'amount', 'opened', 'delivered', 'delete'),
    value: payment,
  });
  const bound = fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -2, max: 6 }).map((d) => BASE + d * DAY),
    fc.integer({ min: -2 * DAY, max: 6 * DAY }).map((ms) => BASE + ms),
  );
  const terminals = fc.constantFrom<ReadQuery['terminals']>(undefined, { configNodes: ['n1'], names: [] }, { configNodes: [], names: ['B'] }, { configNodes: [], names: [], sns: ['SN2'] });

  function ledgerOf(rows: Payment[], changes: Array<{ which: number; what: string; value: Payment }>): DatabaseSync {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    const insert = db.prepare(`INSERT INTO payments (key, reference, kind, terminal, config_node, device_sn, request_id, amount_minor, currency, exponent, state, opened_at, verdict,
      answer_amount, answer_currency) VALUES (?, ?, ?, ?, ?, ?, 'q', ?, ?, ?, ?, ?, ?, ?, ?)`);
    rows.forEach((r, i) =>
      insert.run(`k${i}`, `R-${r.ref}`, r.kind, r.terminal, r.configNode, r.sn, r.amount, r.currency, r.exponent, r.state, BASE + r.at, r.verdict, r.answerAmount, r.answerCurrency),
    );
    for (const c of changes) {
      if (rows.length === 0) break;
      const key = `k${c.which % rows.length}`;
      const v = c.value;
      const sql: Record<string, [string, unknown[]]> = {
        settle: ['UPDATE payments SET state = ?, closed_at = 1, verdict = ? WHERE key = ?', [v.state, v.verdict, key]],
        state: ['UPDATE payments SET state = ? WHERE key = ?', [v.state, key]],
        verdict: ['UPDATE payments SET verdict = ? WHERE key = ?', [v.verdict, key]],
        sn: ['UPDATE payments SET device_sn = ?, config_node = ? WHERE key = ?', [v.sn, v.configNode, key]],
        amount: ['UPDATE payments SET amount_minor = ?, currency = ?, exponent = ? WHERE key = ?', [v.amount, v.currency, v.exponent, key]],
        opened: ['UPDATE payments SET opened_at = ? WHERE key = ?', [BASE + v.at, key]],
        delivered: ['UPDATE payments SET delivered_at = 2 WHERE key = ?', [key]],
        delete: ['DELETE FROM payments WHERE key = ?', [key]],
      };
      const [text, args] = sql[c.what]!;
      db.prepare(text).run(...(args as Array<string | number | null>));
    }
    return db;
  }

  const DAYS_AGAIN = `SELECT opened_at / 86400000 AS day, terminal, ifnull(config_node, '') AS config_node, ifnull(device_sn, '') AS device_sn, ifnull(currency, '') AS currency,
    ifnull(exponent, -1) AS exponent, kind, state, ifnull(verdict, '') AS verdict, count(*) AS n, count(amount_minor) AS priced, ifnull(sum(amount_minor), 0) AS minor
    FROM payments WHERE state <> 'open' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`;

  it('after any inserts, settlements, changes and deletions, payment_days holds exactly the settled payments counted per day and group again', () => {
    fc.assert(
      fc.property(payments, fc.array(change, { maxLength: 30 }), (rows, changes) => {
        const db = ledgerOf(rows, changes);
        try {
          const kept = db.prepare(`SELECT * FROM payment_days ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`).all();
          assert.deepEqual(kept, db.prepare(DAYS_AGAIN).all());
        } finally {
          db.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('totals of any period and terminals read by day equal those read from the payments (part-days at both ends, voids, answer-only amounts)', () => {
    fc.assert(
      fc.property(payments, fc.array(change, { maxLength: 10 }), bound, bound, terminals, (rows, changes, a, b, who) => {
        const db = ledgerOf(rows, changes);
        try {
          const [from, to] = a !== undefined && b !== undefined && b < a ? [b, a] : [a, b];
          const query: ReadQuery = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(who !== undefined ? { terminals: who } : {}) };
          assert.deepEqual(READ_OPS.totals(db, { query }), READ_OPS.totals(db, { query, byDays: false }));
        } finally {
          db.close();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('voids of one group in a part-day and in a whole day are each counted once', () => {
    const db = new DatabaseSync(':memory:');
    try {
      migrate(db);
      const insert = db.prepare(`INSERT INTO payments (key, reference, kind, terminal, request_id, amount_minor, currency, exponent, state, opened_at, verdict)
        VALUES (?, ?, 'Void', 'A', 'q', 100, 'TWD', 2, 'Success', ?, 'approved')`);
      insert.run('a', 'R1', BASE + DAY / 2);
      insert.run('b', 'R2', BASE + DAY + 5);
      const [row] = READ_OPS.totals(db, { query: { from: BASE + DAY / 4, to: BASE + 3 * DAY } });
      assert.deepEqual([row!.voidsCount, row!.voids, row!.net], [2, '200', '-200']);
    } finally {
      db.close();
    }
  });

  it('an approved sale without an amount in a part-day and a priced one of its group in a whole day: each counted once', () => {
    // Found by the property above: the group is read row by row for the whole period once, not also added from the days.
    const db = new DatabaseSync(':memory:');
    try {
      migrate(db);
      const insert = db.prepare(`INSERT INTO payments (key, reference, kind, terminal, request_id, amount_minor, currency, exponent, state, opened_at, verdict)
        VALUES (?, 'R', 'Sale', 'A', 'q', ?, 'TWD', NULL, 'Failed', ?, 'approved')`);
      insert.run('a', null, BASE + 73_321_911);
      insert.run('b', 1, BASE + DAY);
      const query: ReadQuery = { from: BASE + 1, to: BASE + 2 * DAY };
      const [row] = READ_OPS.totals(db, { query });
      assert.deepEqual([row!.salesCount, row!.sales, row!.unpriced], [2, '1', 1]);
      assert.deepEqual(READ_OPS.totals(db, { query }), READ_OPS.totals(db, { query, byDays: false }));
    } finally {
      db.close();
    }
  });

  it("docs/ledger.md's ready queries run on a ledger; its month by day gives what the operator tools' totals give", () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'ledger.md'), 'utf8');
    const sql = /```sql\n([\s\S]*?)```/.exec(doc)![1]!;
    const statements = sql.split(/;\s*\n/).map((t) => t.replace(/^--.*$/gm, '').trim()).filter((t) => t !== '');
    assert.ok(statements.length >= 8, `${statements.length} queries`);
    const db = new DatabaseSync(':memory:');
    try {
      migrate(db);
      const insert = db.prepare(`INSERT INTO payments (key, reference, kind, terminal, request_id, amount_minor, currency, exponent, state, opened_at, verdict)
        VALUES (?, ?, ?, 'T1', 'q', ?, 'TWD', 2, ?, ?, ?)`);
      insert.run('a', 'ORDER-1001', 'Sale', 1050, 'Success', Date.UTC(2026, 10, 1, 3), 'approved');
      insert.run('b', 'b', 'Sale', 2000, 'Success', Date.UTC(2026, 10, 30, 23), 'approved');
      insert.run('c', 'c', 'Refund', 500, 'Success', Date.UTC(2026, 10, 12), 'approved');
      insert.run('d', 'd', 'Sale', 700, 'Failed', Date.UTC(2026, 10, 12), 'declined');
      insert.run('e', 'e', 'Sale', 900, 'Success', Date.UTC(2026, 11, 1), 'approved');
      insert.run('f', 'f', 'Sale', 300, 'open', Date.UTC(2026, 10, 2), null);
      for (const text of statements) db.prepare(text).all();
      const month = statements.find((t) => t.includes('FROM payment_days'))!;
      const byDay = db.prepare(month).all().map((r) => ({ ...r }));
      const [tools] = READ_OPS.totals(db, { query: { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) } });
      assert.deepEqual(byDay, [
        { terminal: 'T1', currency: 'TWD', kind: 'Refund', n: tools!.refundsCount, minor: Number(tools!.refunds), exponent: 2 },
        { terminal: 'T1', currency: 'TWD', kind: 'Sale', n: tools!.salesCount, minor: Number(tools!.sales), exponent: 2 },
      ]);
      assert.deepEqual([tools!.salesCount, tools!.sales, tools!.refundsCount, tools!.refunds], [2, '3050', 1, '500']);
    } finally {
      db.close();
    }
  });

  it('a ledger of schema version 2 gets payment_days from its settled payments when it is migrated', () => {
    const db = new DatabaseSync(':memory:');
    try {
      for (const step of MIGRATIONS.slice(0, 2)) db.exec(step);
      db.exec('PRAGMA user_version = 2');
      db.exec(`INSERT INTO payments (key, reference, kind, terminal, request_id, amount_minor, currency, exponent, state, opened_at, verdict)
        VALUES ('a', 'R1', 'Sale', 'T1', 'q', 1050, 'TWD', 2, 'Success', ${BASE + 5}, 'approved'), ('b', 'R2', 'Sale', 'T1', 'q', 950, 'TWD', 2, 'Success', ${BASE + 9}, 'approved'),
          ('c', 'R3', 'Sale', 'T1', 'q', 700, 'TWD', 2, 'open', ${BASE + 12}, NULL)`);
      migrate(db);
      assert.deepEqual(
        db.prepare('SELECT day, terminal, n, priced, minor FROM payment_days').all().map((r) => ({ ...r })),
        [{ day: BASE / DAY, terminal: 'T1', n: 2, priced: 2, minor: 2000 }],
      );
    } finally {
      db.close();
    }
  });
});

describe('ledger reads: CSV', () => {
  // (No NUL: node:sqlite on Node 22 cuts a bound string at it; the cells' NUL is below, without SQLite.)
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', ' ', '台', "'"), maxLength: 12 });

  it('round-trips through an RFC 4180 reader, oldest first, across pages; formula cells neutralised', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ref: text, msg: text, term: text }), { maxLength: 20 }), fc.integer({ min: 1, max: 4 }), (items, pageSize) => {
        // One opening time for all: the pages' order and bounds hold among equal times too.
        const es = items.map(({ ref, msg, term }, i) => entry({ referenceID: `${ref}#${i}`, terminal: term === '' ? 'T' : term, state: 'Failed', outcome: { verdict: 'declined', errorMessage: msg } }));
        const db = memoryLedger(es);
        let csv = '';
        let after: [number, number] | undefined;
        for (;;) {
          const page = READ_OPS.csvPage(db, { query: {}, order: 'oldest', limit: pageSize, ...(after !== undefined ? { after } : {}) });
          csv += page.text;
          if (page.next === undefined) break;
          after = page.next;
        }
        db.close();
        const rows = parseCsv(csv);
        assert.deepEqual(rows[0], [...JOURNAL_CSV_COLUMNS]);
        assert.equal(rows.length, es.length + 1);
        const col = (name: string) => JOURNAL_CSV_COLUMNS.indexOf(name as (typeof JOURNAL_CSV_COLUMNS)[number]);
        const neutral = (s: string) => (/^[=+\-@\t\r\u0000]/.test(s) ? `'${s}` : s);
        for (const [i, e] of es.entries()) {
          assert.equal(rows[i + 1]![col('referenceID')], neutral(e.referenceID));
          assert.equal(rows[i + 1]![col('errorMessage')], neutral(e.outcome!.errorMessage!));
          assert.equal(rows[i + 1]![col('terminal')], neutral(e.terminal));
          for (const cell of rows[i + 1]!) assert.ok(!/^[=+\-@\t\r\u0000]/.test(cell), `a cell a spreadsheet would run: ${JSON.stringify(cell)}`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a line of any cells reads back as them, none a spreadsheet would run (NUL, tab and CR first included)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', '\u0000', ' ', "'"), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 6 }), (cells) => {
        const [row] = parseCsv(`${csvLine(cells)}\r\n`);
        assert.deepEqual(row, cells.map((c) => (/^[=+\-@\t\r\u0000]/.test(c) ? `'${c}` : c)));
      }),
    );
  });

  it('cells', () => {
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell('\u0000=1+1'), "'\u0000=1+1");
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell('12.30'), '12.30');
  });
});

describe('ledger reads: the reader worker', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-ledger-reads-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers on its own read-only connection, beside a writer; a ledger not there yet reads as empty, then is found', async () => {
    const file = path.join(dir, 'ledger.db');
    const reader = new LedgerReader(file);
    try {
      assert.deepEqual(await reader.ask('totals', { query: {} }), []);
      assert.deepEqual(await reader.ask('page', { query: {}, order: 'newest', limit: 5 }), { rows: [] });
      assert.equal((await reader.ask('csvPage', { query: {}, order: 'oldest', limit: 5 })).text, `${JOURNAL_CSV_COLUMNS.join(',')}\r\n`);
      ledgerWith(file, [entry({ referenceID: 'W-1', amount: '2.50' })]);
      // The writer's connection stays open (WAL) and commits more meanwhile.
      const writer = openFixtureLedger(file);
      insertEntries(writer, [entry({ referenceID: 'W-2', amount: '0.75' })]);
      const [row] = totalsRows(await reader.ask('totals', { query: {} }), (g) => g.terminal);
      assert.deepEqual([row!.sales.count, row!.sales.amount], [2, '3.25']);
      insertEntries(writer, [entry({ referenceID: 'W-3', amount: '1.00' })]);
      assert.equal(await reader.ask('count', { query: {} }), 3);
      writer.close();
      // Nothing was written through the reader's connection (read-only): the file has no row it did not get from the writer.
      const check = new DatabaseSync(file, { readOnly: true });
      assert.equal((check.prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n, 3);
      check.close();
    } finally {
      await reader.close();
    }
    await assert.rejects(reader.ask('count', { query: {} }), /closed/);
  });

  it('a ledger removed and made again (another runtime in the same process) is read anew, not the old one it had open', async () => {
    const file = path.join(dir, 'ledger.db');
    ledgerWith(file, [entry({ referenceID: 'OLD-1' }), entry({ referenceID: 'OLD-2' })]);
    const reader = new LedgerReader(file);
    try {
      assert.equal(await reader.ask('count', { query: {} }), 2);
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      assert.equal(await reader.ask('count', { query: {} }), 0);
      ledgerWith(file, [entry({ referenceID: 'NEW-1' })]);
      const page = await reader.ask('page', { query: {}, order: 'newest', limit: 5 });
      assert.deepEqual(page.rows.map((r) => r.entry.referenceID), ['NEW-1']);
    } finally {
      await reader.close();
    }
  });

  it("a query's error comes back as an error (a bad result word in SQL is never a silent empty answer)", async () => {
    const file = path.join(dir, 'ledger.db');
    ledgerWith(file, [entry({})]);
    const reader = new LedgerReader(file);
    try {
      await assert.rejects(reader.ask('nonsense' as 'count', { query: {} }), /no such ledger query/);
      // Still answering after an error.
      assert.equal(await reader.ask('count', { query: {} }), 1);
    } finally {
      await reader.close();
    }
  });
});
