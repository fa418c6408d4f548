import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  amountToMinor, csvCell, entryResult, isoBound, journalCsv, journalTotals, minorToAmount, queryJournal, readJournalFile,
  JOURNAL_CSV_COLUMNS, withArchives, type JournalEntry,
} from '../lib/session';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jq-'));
}

let seq = 0;
function entry(over: Partial<JournalEntry>): JournalEntry {
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

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF records), for the round trip. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
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

describe('journal query: classification (table)', () => {
  const cases: Array<[string, Partial<JournalEntry>, string, Record<string, unknown>]> = [
    ['approved sale', {}, 'approved', { sales: [1, '10.00'], net: '10.00' }],
    ['declined sale', { state: 'Failed', outcome: { verdict: 'declined', reason: 'declined' } }, 'declined', { declined: 1, net: '0.00' }],
    ['open sale', { state: 'open', outcome: undefined }, 'open', { unknown: 1, net: '0.00' }],
    ['never sent', { state: 'NotSent', outcome: undefined }, 'not-sent', { rows: 0 }],
    ['approved refund', { action: 'Refund', orgReferenceID: 'S-0' }, 'approved', { refunds: [1, '10.00'], net: '-10.00' }],
    ['declined refund', { action: 'Refund', state: 'Failed', outcome: { verdict: 'declined' } }, 'declined', { declined: 1 }],
    ['sale found voided by a lookup', { state: 'Failed', outcome: { verdict: 'voided', reason: 'voided' } }, 'voided', { sales: [1, '10.00'], voids: [1, '10.00'], net: '0.00' }],
    ['settled without a verdict (older line): Success', { outcome: undefined }, 'approved', { sales: [1, '10.00'] }],
    ['settled without a verdict: Failed', { state: 'Failed', outcome: undefined }, 'declined', { declined: 1 }],
    ['void refused', { action: 'Void', amount: undefined, currency: undefined, state: 'Failed', outcome: { verdict: 'declined', reason: 'void-refused' } }, 'declined', { declined: 1, currency: '' }],
    ['open void', { action: 'Void', amount: undefined, currency: undefined, state: 'open', outcome: undefined }, 'open', { unknown: 1, currency: '' }],
    ['void with no transaction known: unpriced', { action: 'Void', amount: undefined, currency: undefined, outcome: { verdict: 'voided' } }, 'voided', { voids: [1, '0.00'], unpriced: 1, currency: '' }],
  ];
  for (const [name, over, result, expect] of cases) {
    it(name, () => {
      const e = entry(over);
      assert.equal(entryResult(e), result);
      const rows = journalTotals([e]);
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
    });
  }

  it('a void through the ECR: the sale counts, its void counts once at the sale amount, net is zero', () => {
    const sale = entry({ referenceID: 'S-1', amount: '123.45' });
    const voided = entry({ referenceID: 'S-1', action: 'Void', amount: undefined, currency: undefined, orgReferenceID: 'S-1', outcome: { verdict: 'voided' } });
    // The sale's own lookup later also says Voided: still one void.
    const saleSeenVoided = { ...sale, state: 'Failed' as const, outcome: { verdict: 'voided' } };
    for (const set of [[sale, voided], [saleSeenVoided, voided]]) {
      const [r] = journalTotals(set);
      assert.deepEqual([r!.sales.count, r!.sales.amount, r!.voids.count, r!.voids.amount, r!.net, r!.currency], [1, '123.45', 1, '123.45', '0.00', 'TWD']);
    }
  });

  it('a voided refund gives the money back to the net', () => {
    const refund = entry({ referenceID: 'F-1', action: 'Refund', amount: '5.00' });
    const voided = entry({ referenceID: 'F-1', action: 'Void', amount: undefined, currency: undefined, outcome: { verdict: 'voided' } });
    const [r] = journalTotals([refund, voided]);
    assert.deepEqual([r!.refunds.amount, r!.voids.amount, r!.net], ['5.00', '5.00', '0.00']);
  });

  it('a void today of yesterday\'s sale: today shows the void, at the sale\'s amount and currency', () => {
    const sale = entry({ referenceID: 'S-2', amount: '40.00', currency: 'HKD', openedAt: '2026-11-28T10:00:00.000Z' });
    const voided = entry({ referenceID: 'S-2', action: 'Void', amount: undefined, currency: undefined, openedAt: '2026-11-29T10:00:00.000Z', outcome: { verdict: 'voided' } });
    const [r] = journalTotals([sale, voided], { from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z' });
    assert.deepEqual([r!.currency, r!.sales.count, r!.voids.amount, r!.net], ['HKD', 0, '40.00', '-40.00']);
  });

  it('rows per terminal and currency, filtered by terminal and period (from inclusive, to exclusive)', () => {
    const es = [
      entry({ terminal: 'A', amount: '1.10' }), entry({ terminal: 'A', amount: '2.20', currency: 'USD' }),
      entry({ terminal: 'B', amount: '3.30' }), entry({ terminal: 'A', amount: '4.40', openedAt: '2026-11-30T00:00:00.000Z' }),
      entry({ terminal: 'A', amount: '5.50', openedAt: '2026-11-29T07:59:59.999+08:00' }),
    ];
    const all = journalTotals(es);
    assert.deepEqual(all.map((r) => [r.terminal, r.currency, r.sales.amount]), [['A', 'TWD', '11.00'], ['A', 'USD', '2.20'], ['B', 'TWD', '3.30']]);
    const day = journalTotals(es, { terminal: 'A', from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z' });
    assert.deepEqual(day.map((r) => [r.currency, r.sales.amount]), [['TWD', '1.10'], ['USD', '2.20']]);
    const local = journalTotals(es, { terminal: 'A', from: '2026-11-29T00:00:00+08:00', to: '2026-11-29T08:00:00Z' });
    assert.deepEqual(local.map((r) => r.sales.amount), ['5.50']);
  });

  it('a date alone is the host\'s local midnight; a time without an offset local time', () => {
    assert.equal(isoBound('2026-11-29', 'from'), new Date(2026, 10, 29).getTime());
    assert.equal(isoBound('2026-11-29T08:30', 'from'), new Date(2026, 10, 29, 8, 30).getTime());
    assert.equal(isoBound('2026-11-29T08:30:00+08:00', 'from'), Date.UTC(2026, 10, 29, 0, 30));
  });

  it('bad periods are errors naming the field', () => {
    assert.throws(() => journalTotals([], { from: 'yesterday' }), (e: Error & { field?: string }) => e.field === 'from' && /ISO 8601/.test(e.message));
    assert.throws(() => queryJournal([], { to: '2026-13-45' }), (e: Error & { field?: string }) => e.field === 'to');
    assert.throws(() => queryJournal([], { from: '2026-11-30', to: '2026-11-29' }), (e: Error & { field?: string }) => e.field === 'to');
    assert.throws(() => queryJournal([], { state: 'closed' as 'open' }), (e: Error & { field?: string }) => e.field === 'state');
    assert.throws(() => queryJournal([], { limit: 0 }), (e: Error & { field?: string }) => e.field === 'limit');
    assert.throws(() => queryJournal([], { result: 'won' }), (e: Error & { field?: string }) => e.field === 'result');
  });
});

describe('journal query: exact sums (property)', () => {
  const amount = fc.bigInt({ min: 1n, max: 99_999_999_999_99n }).map((minor) => ({ minor, text: minorToAmount(minor) }));

  it('amounts round-trip through minor units', () => {
    fc.assert(fc.property(amount, ({ minor, text }) => amountToMinor(text) === minor));
    assert.equal(amountToMinor('0.1'), 10n);
    assert.equal(amountToMinor('1e3'), undefined);
    assert.equal(minorToAmount(-305n), '-3.05');
  });

  it('sums of random sales and refunds equal the bigint sums', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: amount, refund: fc.boolean(), declined: fc.boolean() }), { maxLength: 200 }), (items) => {
        const es = items.map(({ a, refund, declined }) =>
          entry({ action: refund ? 'Refund' : 'Sale', amount: a.text, ...(declined ? { state: 'Failed', outcome: { verdict: 'declined' } } : {}) }),
        );
        let sales = 0n;
        let refunds = 0n;
        for (const { a, refund, declined } of items) {
          if (declined) continue;
          if (refund) refunds += a.minor;
          else sales += a.minor;
        }
        const rows = journalTotals(es);
        if (items.length === 0) return rows.length === 0;
        const r = rows[0]!;
        return r.sales.amount === minorToAmount(sales) && r.refunds.amount === minorToAmount(refunds) && r.net === minorToAmount(sales - refunds)
          && r.declined.count === items.filter((i) => i.declined).length;
      }),
    );
  });

  it('large amounts (up to 15 whole digits) and long sums stay exact', () => {
    const big = fc.bigInt({ min: 1n, max: 999_999_999_999_999_99n }).map((minor) => ({ minor, text: minorToAmount(minor) }));
    fc.assert(
      fc.property(fc.array(fc.oneof(big, amount), { minLength: 1, maxLength: 300 }), (items) => {
        const [r] = journalTotals(items.map((a) => entry({ amount: a.text })));
        return r!.sales.amount === minorToAmount(items.reduce((sum, a) => sum + a.minor, 0n)) && r!.sales.count === items.length;
      }),
    );
    const many = Array.from({ length: 5_000 }, () => entry({ amount: '999999999999.99' }));
    assert.equal(journalTotals(many)[0]!.sales.amount, minorToAmount(99999999999999n * 5_000n));
  });

  it('0.10 + 0.20 is 0.30 (not 0.30000000000000004)', () => {
    const [r] = journalTotals([entry({ amount: '0.10' }), entry({ amount: '0.20' })]);
    assert.equal(r!.sales.amount, '0.30');
  });
});

describe('journal query: CSV', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', ' ', '台', "'"), maxLength: 12 });

  it('round-trips through an RFC 4180 reader, formula cells neutralised', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ref: text, msg: text, term: text }), { maxLength: 20 }), (items) => {
        const es = items.map(({ ref, msg, term }) => entry({ referenceID: ref, terminal: term, state: 'Failed', outcome: { verdict: 'declined', errorMessage: msg } }));
        const rows = parseCsv(journalCsv(es));
        assert.deepEqual(rows[0], [...JOURNAL_CSV_COLUMNS]);
        assert.equal(rows.length, es.length + 1);
        const col = (name: string) => JOURNAL_CSV_COLUMNS.indexOf(name as (typeof JOURNAL_CSV_COLUMNS)[number]);
        for (const [i, { ref, msg, term }] of items.entries()) {
          const neutral = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
          assert.equal(rows[i + 1]![col('referenceID')], neutral(ref));
          assert.equal(rows[i + 1]![col('errorMessage')], neutral(msg));
          assert.equal(rows[i + 1]![col('terminal')], neutral(term));
          for (const cell of rows[i + 1]!) assert.ok(!/^[=+\-@\t\r]/.test(cell), `a cell a spreadsheet would run: ${JSON.stringify(cell)}`);
        }
      }),
    );
  });

  it('cells', () => {
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell('12.30'), '12.30');
    // A leading NUL (some spreadsheets drop it, then read the formula behind it).
    assert.equal(csvCell('\0=HYPERLINK("x")'), `"'\0=HYPERLINK(""x"")"`);
    assert.equal(csvCell('\0@SUM(A1)'), "'\0@SUM(A1)");
    assert.equal(csvCell('a\0b'), 'a\0b');
  });
});

describe('journal query: reading a file without taking it over', () => {
  it('the latest state of each entry; a torn tail left out and left alone; archives read too', () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal-T1.jsonl');
    const a = entry({ referenceID: 'A', state: 'open', outcome: undefined });
    const b = entry({ referenceID: 'B' });
    const lines = [a, b, { ...a, state: 'Success', outcome: { verdict: 'approved' } }].map((e) => JSON.stringify(e)).join('\n');
    const torn = `${lines}\n{"referenceID":"C","action":"Sa`;
    fs.writeFileSync(file, torn);
    const old = entry({ referenceID: 'OLD', openedAt: '2026-10-01T00:00:00.000Z' });
    fs.writeFileSync(path.join(dir, 'journal-T1.archive-2026-10.jsonl'), `${JSON.stringify(old)}\n`);
    fs.writeFileSync(path.join(dir, 'journal-T2.archive-2026-10.jsonl'), `${JSON.stringify(entry({ referenceID: 'OTHER' }))}\n`);
    const read = readJournalFile(file);
    assert.deepEqual(read.map((e) => [e.referenceID, e.state]).sort(), [['A', 'Success'], ['B', 'Success'], ['OLD', 'Success']]);
    assert.equal(fs.readFileSync(file, 'utf8'), torn, 'the file is untouched');
    // Only the months a period needs.
    assert.deepEqual(readJournalFile(file, { from: '2026-11-01' }).map((e) => e.referenceID).sort(), ['A', 'B']);
    assert.deepEqual(readJournalFile(file, { to: '2026-11-01' }).map((e) => e.referenceID).sort(), ['OLD']);
    assert.deepEqual(readJournalFile(path.join(dir, 'none.jsonl')), []);
  });

  it('with a period: the voids in it come with the transactions they voided, from any archive', () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal-T1.jsonl');
    const sale = entry({ referenceID: 'S-OLD', amount: '70.00', openedAt: '2026-09-30T23:00:00.000Z' });
    const other = entry({ referenceID: 'S-OTHER', amount: '1.00', openedAt: '2026-09-30T23:30:00.000Z' });
    fs.writeFileSync(path.join(dir, 'journal-T1.archive-2026-09.jsonl'), [sale, other].map((e) => `${JSON.stringify(e)}\n`).join(''));
    const voided = entry({ referenceID: 'S-OLD', action: 'Void', amount: undefined, currency: undefined, openedAt: '2026-11-29T09:00:00.000Z', outcome: { verdict: 'voided' } });
    // Lines in another key order (another writer) and an open line superseded by its outcome.
    const reordered = `{"action":"Sale","terminal":"T1","referenceID":"S-NEW","amount":"5.00","currency":"TWD","requestID":"q","state":"Success","openedAt":"2026-11-29T10:00:00.000Z","outcome":{"verdict":"approved"}}`;
    const open = entry({ referenceID: 'S-2', amount: '2.00', state: 'open', outcome: undefined, openedAt: '2026-11-29T11:00:00.000Z' });
    fs.writeFileSync(file, [JSON.stringify(voided), reordered, JSON.stringify(open), JSON.stringify({ ...open, state: 'Success', outcome: { verdict: 'approved' } })].join('\n') + '\n');
    const day = { from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z' };
    const read = readJournalFile(file, day);
    assert.deepEqual(read.map((e) => [e.referenceID, e.action, e.state]).sort(), [['S-2', 'Sale', 'Success'], ['S-NEW', 'Sale', 'Success'], ['S-OLD', 'Sale', 'Success'], ['S-OLD', 'Void', 'Success']]);
    const [r] = journalTotals(read, day);
    assert.deepEqual([r!.sales.amount, r!.voids.amount, r!.unpriced.count, r!.net], ['7.00', '70.00', 0, '-63.00']);
    // The same from the whole file.
    assert.deepEqual(journalTotals(readJournalFile(file), day), journalTotals(read, day));
  });

  it('a damaged last line of an entry (a torn archive append, mended): its latest readable line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal-T1.jsonl');
    const good = entry({ referenceID: 'D-1', amount: '3.00' });
    fs.writeFileSync(file, `${JSON.stringify(good)}\n{"referenceID":"D-1","action":"Sale","amou\n`);
    assert.deepEqual(readJournalFile(file).map((e) => [e.referenceID, e.amount]), [['D-1', '3.00']]);
  });

  it('a live journal: archives are read only when memory does not cover the period, or for a void\'s sale', () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal-T1.jsonl');
    const live = [
      entry({ referenceID: 'M-1', amount: '1.00', openedAt: '2026-11-01T10:00:00.000Z', closedAt: '2026-11-01T10:00:30.000Z' }),
      entry({ referenceID: 'M-2', amount: '2.00', openedAt: '2026-11-20T10:00:00.000Z', closedAt: '2026-11-20T10:00:30.000Z' }),
    ];
    // This month's archive cannot be read (a directory in its place): reading it would throw.
    fs.mkdirSync(path.join(dir, 'journal-T1.archive-2026-11.jsonl'));
    const later = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' };
    assert.deepEqual(withArchives(file, live, later).map((e) => e.referenceID).sort(), ['M-1', 'M-2']);
    assert.throws(() => withArchives(file, live, { from: '2026-11-01T12:00:00Z' }), /not a regular file/);
    assert.throws(() => withArchives(file, live), /not a regular file/);
    // A void of a sale only last month's archive holds: that archive is looked in.
    fs.rmdirSync(path.join(dir, 'journal-T1.archive-2026-11.jsonl'));
    fs.writeFileSync(path.join(dir, 'journal-T1.archive-2026-10.jsonl'), `${JSON.stringify(entry({ referenceID: 'A-1', amount: '9.00', openedAt: '2026-10-31T23:00:00.000Z' }))}\n`);
    const voided = entry({ referenceID: 'A-1', action: 'Void', amount: undefined, currency: undefined, openedAt: '2026-11-20T11:00:00.000Z', closedAt: '2026-11-20T11:00:10.000Z', outcome: { verdict: 'voided' } });
    const read = withArchives(file, [...live, voided], later);
    const [r] = journalTotals(read, later);
    assert.deepEqual([r!.sales.amount, r!.voids.amount, r!.unpriced.count], ['2.00', '9.00', 0]);
  });

  it('queryJournal: newest first, by state, result, terminal, limit', () => {
    const es = [
      entry({ referenceID: 'x1', openedAt: '2026-11-29T01:00:00.000Z' }),
      entry({ referenceID: 'x2', openedAt: '2026-11-29T03:00:00.000Z', state: 'open', outcome: undefined }),
      entry({ referenceID: 'x3', openedAt: '2026-11-29T02:00:00.000Z', state: 'Failed', outcome: { verdict: 'declined' }, terminal: 'T2' }),
      entry({ referenceID: 'x4', openedAt: '2026-11-29T04:00:00.000Z', state: 'NotSent', outcome: undefined }),
    ];
    assert.deepEqual(queryJournal(es).map((e) => e.referenceID), ['x4', 'x2', 'x3', 'x1']);
    assert.deepEqual(queryJournal(es, { state: 'open' }).map((e) => e.referenceID), ['x2']);
    assert.deepEqual(queryJournal(es, { state: 'settled' }).map((e) => e.referenceID), ['x3', 'x1']);
    assert.deepEqual(queryJournal(es, { result: 'declined' }).map((e) => e.referenceID), ['x3']);
    assert.deepEqual(queryJournal(es, { result: 'Failed' }).map((e) => e.referenceID), ['x3']);
    assert.deepEqual(queryJournal(es, { terminal: 'T1', limit: 2 }).map((e) => e.referenceID), ['x4', 'x2']);
    assert.deepEqual(queryJournal(es, { from: '2026-11-29T02:00:00Z', to: '2026-11-29T04:00:00Z' }).map((e) => e.referenceID), ['x2', 'x3']);
  });
});
