import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, journalTotals, queryJournal, readEntriesInSlices, readJournalFile, type JournalEntry } from '../lib/session';
import { JournalSource } from '../nodes/common/admin-journal';
import { AdminParamError, journalParams } from '../nodes/common/admin-params';
import { journalCsvFor, journalRows, journalTotalsFor } from '../nodes/common/admin-queries';
import { deregisterTerminal, registerTerminal } from '../nodes/common/terminal-registry';
import type { TerminalHandle } from '../nodes/common/terminal-handle';
import { journalLines } from '../bench/sidebar-journals';

const DAY = 86_400_000;

/** A deployed terminal as the registry holds it, its handle reduced to the journal the source reads. */
function deploy(id: string, journal: Journal): void {
  registerTerminal({ id, name: id, transport: 'simulator', address: '', identity: `simulator-${id}`, journalFile: journal.file, handle: { journal } as unknown as TerminalHandle });
}

describe('admin API data: what the sidebar reads of the journals', () => {
  let dir: string;
  const journals: Journal[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-admin-journal-'));
  });
  afterEach(async () => {
    for (const j of journals.splice(0)) {
      deregisterTerminal(path.basename(j.file, '.jsonl').slice('journal-'.length));
      await j.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function liveJournal(id: string, count: number, now: number): Journal {
    const file = path.join(dir, `journal-${id}.jsonl`);
    fs.writeFileSync(file, journalLines(`simulator-${id}`, count, now, 2));
    const journal = new Journal(file);
    journals.push(journal);
    deploy(id, journal);
    return journal;
  }

  it('a live journal answers a period from its newest end exactly as from all of it (list and totals), with a void of an older sale', async () => {
    const now = Date.now();
    const journal = liveJournal('k1', 3_000, now);
    // A void today of a sale 20 days ago: counted at that sale's amount.
    const old = journal.byReference('simulator-k1-R2000')!;
    assert.ok(old.state === 'Success' && old.action === 'Sale', JSON.stringify(old));
    await journal.begin({ referenceID: old.referenceID, action: 'Void', terminal: 'simulator-k1', requestID: 'V1' });
    await journal.recordOutcome('Void', old.referenceID, 'Success', { status: 'Success', verdict: 'voided', reason: 'voided' });
    const source = new JournalSource(dir);
    for (const days of [0, 1, 2, 7]) {
      const from = new Date(now - days * DAY - 60_000).toISOString();
      const windowed = await source.entries({ terminal: 'k1', from });
      assert.ok(windowed.length < journal.size / 2 || days === 7, `day ${days}: read ${windowed.length} of ${journal.size}`);
      // (Entries opened at the same moment may come in either order.)
      const byTime = (list: JournalEntry[]) => list.map((e) => `${e.openedAt} ${e.action} ${e.referenceID} ${e.state}`).sort();
      assert.deepEqual(byTime(queryJournal(windowed, { from })), byTime(queryJournal(journal.all(), { from })), `list from ${days} days ago`);
      assert.deepEqual(journalTotals(windowed, { from }), journalTotals(journal.all(), { from }), `totals from ${days} days ago`);
    }
    const today = journalTotals(await source.entries({ terminal: 'k1', from: new Date(now - 60_000).toISOString() }), { from: new Date(now - 60_000).toISOString() });
    assert.equal(today.find((r) => r.currency === 'HKD')!.voids.amount, old.amount);
    // Open payments: every one, whenever opened.
    assert.deepEqual((await source.entries({ state: 'open' })).map((e) => e.referenceID).sort(), ['simulator-k1-OPEN0', 'simulator-k1-OPEN1']);
  });

  it('periods asked once each (a rolling "since 25 days ago", from now) are dropped past a bound on the entries kept, the answers unchanged', async () => {
    const now = Date.now();
    const journal = liveJournal('r1', 2_000, now);
    const file = path.join(dir, 'journal-serial-_dev_retired.jsonl');
    fs.writeFileSync(file, journalLines('serial-/dev/retired', 2_000, now));
    const bound = 3_000;
    const source = new JournalSource(dir, { maxViewEntries: bound });
    for (let i = 0; i < 30; i++) {
      // A new period at every ask, each holding most of both journals.
      const from = new Date(now - 25 * DAY - i * 1_000).toISOString();
      for (const terminal of ['r1', 'serial-/dev/retired']) {
        const rows = await journalTotalsFor(source, { terminal, from, limit: 500, format: 'json' });
        const all = terminal === 'r1' ? journal.all() : readJournalFile(file);
        const expected = journalTotals(all, { from });
        assert.deepEqual(
          rows.map((r) => [r.currency, r.sales, r.refunds, r.net]),
          expected.map((r) => [r.currency, r.sales, r.refunds, r.net]),
          `ask ${i} of ${terminal}`,
        );
        assert.ok(source.heldEntries <= bound, `ask ${i}: ${source.heldEntries} entries kept (bound ${bound})`);
      }
    }
    assert.ok(source.heldEntries > 0, 'the newest period is still kept');
  });

  it('a journal no node has open is read from its file once, and again when it changes', async () => {
    const now = Date.now();
    const file = path.join(dir, 'journal-serial-_dev_gone.jsonl');
    fs.writeFileSync(file, journalLines('serial-/dev/gone', 500, now));
    const source = new JournalSource(dir);
    const first = await source.entries({});
    assert.equal(first.length, 500);
    assert.deepEqual(first, readJournalFile(file));
    // The same objects: not read again while the file is unchanged, whatever the period.
    const second = await source.entries({ from: new Date(now - DAY).toISOString() });
    assert.ok(second.length === first.length && second.every((e, i) => e === first[i]), 'read again while unchanged');
    fs.appendFileSync(file, journalLines('serial-/dev/gone', 1, now + 1_000).replace('-R0"', '-NEW"'));
    const again = await source.entries({});
    assert.equal(again.length, 501);
    // Filtered by the journal's own terminal name, since no deployed terminal has that id.
    assert.equal(queryJournal(again, { terminal: 'serial-/dev/gone' }).length, 501);
    // Not written since a period began: not read for it (a retired terminal's journal costs today's refresh nothing); still read for its open payments.
    const lastWrite = fs.statSync(file).mtimeMs;
    assert.equal(source.sources({ from: new Date(lastWrite + 1_000).toISOString() }).length, 0);
    assert.equal(source.sources({ from: new Date(lastWrite + 1_000).toISOString(), state: 'open' }).length, 1);
    assert.equal(source.sources({ from: new Date(lastWrite - 1_000).toISOString() }).length, 1);
    // Its open payments: listed from a view of them alone; appended ones seen.
    fs.appendFileSync(file, journalLines('serial-/dev/gone', 0, now, 2));
    const open = (await source.sources({ state: 'open' })[0]!.view!()).list(10);
    assert.deepEqual(open.entries.map((e) => e.referenceID).sort(), ['serial-/dev/gone-OPEN0', 'serial-/dev/gone-OPEN1']);
    assert.equal(open.count, 2);
  });

  it('a live journal whose history compaction archived: totals of all of it and of periods as the full computation, kept up to date as it changes', async () => {
    const now = Date.now();
    const file = path.join(dir, 'journal-k2.jsonl');
    fs.writeFileSync(file, journalLines('simulator-k2', 3_000, now, 2));
    // Over the bound at start: compaction archives the oldest settled entries (before the next line is written).
    const journal = new Journal(file, { maxSettled: 500 });
    journals.push(journal);
    deploy('k2', journal);
    await journal.begin({ referenceID: 'N1', action: 'Sale', amount: '1.50', currency: 'HKD', terminal: 'simulator-k2', requestID: 'n1' });
    assert.ok(fs.readdirSync(dir).some((n) => n.includes('.archive-')), 'compaction archived');
    assert.equal(journal.byReference('simulator-k2-R2900'), undefined, 'the old sale is in the archives only');
    const source = new JournalSource(dir);
    const periods = [{}, { from: new Date(now - DAY).toISOString() }, { from: new Date(now - 20 * DAY).toISOString(), to: new Date(now - 10 * DAY).toISOString() }];
    const check = async (when: string) => {
      for (const p of periods) {
        const view = await source.sources({ terminal: 'k2', ...p })[0]!.view!();
        assert.deepEqual(view.totals(), journalTotals(readJournalFile(file), p), `${when}: totals of ${JSON.stringify(p)}`);
        const full = queryJournal(readJournalFile(file), p);
        assert.equal(view.list(10).count, full.length, `${when}: count of ${JSON.stringify(p)}`);
      }
    };
    await check('at first');
    // Today: a void of an archived sale, the new sale settled, an open one settled.
    await journal.begin({ referenceID: 'simulator-k2-R2900', action: 'Void', terminal: 'simulator-k2', requestID: 'v1' });
    await journal.recordOutcome('Void', 'simulator-k2-R2900', 'Success', { verdict: 'voided', reason: 'voided' });
    await journal.recordOutcome('Sale', 'N1', 'Success', { verdict: 'approved', reason: 'approved' });
    await journal.recordOutcome('Sale', 'simulator-k2-OPEN0', 'Failed', { verdict: 'declined', reason: 'declined' });
    await check('after changes');
    const today = (await source.sources({ terminal: 'k2', ...periods[1] })[0]!.view!()).totals().find((r) => r.currency === 'HKD')!;
    assert.equal(today.voids.count, 1);
    assert.equal(today.unpriced.count, 0, 'the archived sale priced the void');
  });

  it('reads a file in slices, a turn of the event loop between, as readJournalFile reads it; a torn last line left out', async () => {
    const file = path.join(dir, 'journal-serial-_dev_big.jsonl');
    fs.writeFileSync(file, `${journalLines('serial-/dev/big', 20_000, Date.now())}{"referenceID":"torn","act`);
    let turns = 0;
    let reading = true;
    const count = () => {
      turns++;
      if (reading) setImmediate(count);
    };
    setImmediate(count);
    const read = await readEntriesInSlices(file);
    reading = false;
    assert.deepEqual([...read!.values()], readJournalFile(file));
    assert.equal(read!.size, 20_000);
    assert.ok(turns > 2, `the event loop turned ${turns} times while 20,000 lines were parsed`);
  });

  it('open payments asked with a period: the same answer from a journal no node has open as from a live one', async () => {
    const now = Date.now();
    // Open payments three days old, in a live journal and in one no node has open.
    liveJournal('k3', 100, now);
    fs.writeFileSync(path.join(dir, 'journal-serial-_dev_old.jsonl'), journalLines('serial-/dev/old', 100, now, 2));
    const source = new JournalSource(dir);
    const open = (from?: string) => journalRows(source, { state: 'open', limit: 500, format: 'json', ...(from !== undefined ? { from } : {}) });
    const all = await open();
    assert.deepEqual(all.entries.map((r) => r.referenceID).sort(), ['serial-/dev/old-OPEN0', 'serial-/dev/old-OPEN1', 'simulator-k3-OPEN0', 'simulator-k3-OPEN1']);
    assert.deepEqual(all.entries.map((r) => r.terminalId).sort(), ['k3', 'k3', null, null]);
    assert.equal(all.count, 4);
    // Opened before the period: in neither answer.
    const today = await open(new Date(now - DAY).toISOString());
    assert.deepEqual(today, { count: 0, truncated: false, entries: [] });
    const week = await open(new Date(now - 7 * DAY).toISOString());
    assert.equal(week.count, 4);
    // The CSV of a period reads the same.
    const csv = await journalCsvFor(source, { from: new Date(now - DAY).toISOString(), state: 'open', limit: 500, format: 'csv' });
    assert.equal(csv.split('\r\n').length, 2, csv);
  });

  it('query parameters: each bad one named, good ones normalised', () => {
    assert.deepEqual(journalParams({ from: '2026-11-29', to: '2026-11-30T08:00:00+08:00', state: 'open', result: 'approved', limit: '20', format: 'csv', terminal: 't1' }), {
      from: new Date(2026, 10, 29).toISOString(), // a date alone: the host's local midnight
      to: '2026-11-30T00:00:00.000Z',
      state: 'open',
      result: 'approved',
      limit: 20,
      format: 'csv',
      terminal: 't1',
    });
    assert.deepEqual(journalParams({}), { limit: 500, format: 'json' });
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ from: 'yesterday' }, 'from'],
      [{ from: '2026-02-30' }, 'from'],
      [{ to: '29/11/2026' }, 'to'],
      [{ from: '2026-11-30', to: '2026-11-29' }, 'to'],
      [{ state: 'done' }, 'state'],
      [{ result: '<b>' }, 'result'],
      [{ limit: '-1' }, 'limit'],
      [{ limit: '100001' }, 'limit'],
      [{ format: 'pdf' }, 'format'],
      [{ terminal: ['a', 'b'] }, 'terminal'],
      [{ terminal: 'a\u0000b' }, 'terminal'],
    ];
    for (const [query, parameter] of bad) {
      assert.throws(() => journalParams(query), (err: unknown) => err instanceof AdminParamError && err.parameter === parameter, JSON.stringify(query));
    }
  });
});
