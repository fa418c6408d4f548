import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LedgerReader } from '../lib/ledger';
import { AdminParamError, journalParams } from '../nodes/common/admin-params';
import { HeavyReads } from '../nodes/common/admin-heavy';
import { journalTotalsFor, readQueryOf } from '../nodes/common/admin-queries';
import { newestRows } from '../nodes/common/ledger-answers';
import { deregisterTerminal, registerTerminal } from '../nodes/common/terminal-registry';
import type { Terminal } from '../lib/terminal';
import { ledgerWith, type FixtureEntry } from './helpers/ledger-fixture';

const DAY = 86_400_000;

/** A deployed terminal as the registry holds it (the readers use its id, name, identity and SN). */
function deploy(id: string, identity: string, sn?: string): void {
  registerTerminal({ id, name: `name of ${id}`, transport: 'simulator', address: '', identity, handle: { device: sn === undefined ? {} : { sn } } as unknown as Terminal } as never);
}

function sale(ref: string, terminal: string, at: number, over: Partial<FixtureEntry> = {}): FixtureEntry {
  return { referenceID: ref, action: 'Sale', amount: '1.00', currency: 'HKD', terminal, requestID: `q-${ref}`, state: 'Success', openedAt: new Date(at).toISOString(), outcome: { verdict: 'approved' }, ...over };
}

describe('admin API data: what the sidebar reads of the ledger', () => {
  let dir: string;
  let reader: LedgerReader;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-admin-reads-'));
    reader = new LedgerReader(path.join(dir, 'ledger.db'));
  });
  afterEach(async () => {
    for (const id of ['k1', 'k2']) deregisterTerminal(id);
    await reader.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('totals per deployed terminal (its config node, whatever name older payments carry) and per name for the rest; open payments of every terminal, labelled', async () => {
    const now = Date.now();
    ledgerWith(path.join(dir, 'ledger.db'), [
      // k1's payments: under its place now, and under an older name with its config node.
      sale('A1', 'simulator-k1', now - 1_000, { amount: '10.20', configNode: 'k1' }),
      sale('A2', 'serial-/dev/old', now - 2_000, { amount: '0.30', configNode: 'k1' }),
      sale('A3', 'simulator-k1', now - 3_000, { state: 'open', outcome: undefined }),
      // A void today of a sale 20 days ago: counted at that sale's amount.
      sale('OLD', 'simulator-k1', now - 20 * DAY, { amount: '7.00', configNode: 'k1' }),
      sale('OLD', 'simulator-k1', now - 4_000, { action: 'Void', amount: undefined, currency: undefined, configNode: 'k1', outcome: { verdict: 'voided' } }),
      // A terminal no node has now.
      sale('B1', 'serial-/dev/gone', now - 5_000, { amount: '5.00' }),
      sale('B2', 'serial-/dev/gone', now - 6 * DAY, { state: 'open', outcome: undefined }),
    ]);
    deploy('k1', 'simulator-k1');
    const today = { from: new Date(now - DAY).toISOString(), limit: 500, format: 'json' as const };
    const totals = await journalTotalsFor(reader, journalParams({ from: today.from }));
    assert.deepEqual(
      totals.map((r) => [r.terminal, r.terminalId, r.terminalName, r.currency, r.sales.count, r.sales.amount, r.voids.amount, r.unknown.count, r.net]),
      [
        ['serial-/dev/gone', null, null, 'HKD', 1, '5.00', '0.00', 0, '5.00'],
        ['simulator-k1', 'k1', 'name of k1', 'HKD', 2, '10.50', '7.00', 1, '3.50'],
      ],
    );
    // One terminal asked by its config node's id: its payments alone, under any name.
    const mine = await journalTotalsFor(reader, journalParams({ from: today.from, terminal: 'k1' }));
    assert.deepEqual(mine.map((r) => [r.terminalId, r.sales.amount]), [['k1', '10.50']]);
    // A name no deployed terminal has: matched against the names on the payments.
    const gone = await journalTotalsFor(reader, journalParams({ terminal: 'serial-/dev/gone' }));
    assert.deepEqual(gone.map((r) => [r.terminal, r.terminalId, r.sales.amount, r.unknown.count]), [['serial-/dev/gone', null, '5.00', 1]]);
    // Open payments: every one, whenever opened, labelled with the deployed terminal they belong to.
    const open = await newestRows(reader, readQueryOf(journalParams({ state: 'open' }), true), 500);
    assert.deepEqual(open.rows.map(({ row, t }) => [row.entry.referenceID, t?.id ?? null]), [['A3', 'k1'], ['B2', null]]);
    assert.equal(open.count, 2);
    // Opened before the period: not in it.
    const recent = await newestRows(reader, readQueryOf(journalParams({ state: 'open', from: new Date(now - DAY).toISOString() }), true), 500);
    assert.deepEqual(recent.rows.map(({ row }) => row.entry.referenceID), ['A3']);
    // The newest first, at most `limit`, with how many match.
    const two = await newestRows(reader, readQueryOf(journalParams({ limit: '2' }), true), 2);
    assert.deepEqual([two.count, two.rows.map(({ row }) => row.entry.referenceID)], [7, ['A1', 'A2']]);
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

  it('one heavy read per user at a time: a second is refused with the seconds to wait; another user, or the same one after, goes on', async () => {
    let now = 1_000_000;
    const heavy = new HeavyReads(() => now);
    let release!: () => void;
    const first = heavy.tryRun('user:reader', () => new Promise<void>((resolve) => (release = resolve)));
    assert.notEqual(first, false);
    assert.equal(heavy.tryRun('user:reader', () => Promise.resolve()), false);
    now += 2_500;
    // Its running read has taken 2.5 s: wait as long again, rounded up.
    assert.equal(heavy.retryAfter('user:reader'), 3);
    const other = heavy.tryRun('user:admin', () => Promise.resolve());
    assert.notEqual(other, false);
    await other;
    release();
    await first;
    assert.equal(heavy.size, 0);
    const again = heavy.tryRun('user:reader', () => Promise.reject(new Error('failed')));
    assert.notEqual(again, false);
    await assert.rejects(again as Promise<void>, /failed/);
    // A read that failed ends too.
    assert.equal(heavy.size, 0);
    assert.equal(heavy.retryAfter('user:nobody'), 1);
  });
});
