import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Journal, journalKey, journalTotals, PeriodView, queryJournal, stateMatches, type JournalEntry, type JournalState } from '../lib/session';

/*
 * The operator tools' incremental period (today's totals and list kept up
 * to date from a journal's changes) gives the same answers as computing
 * them over the whole journal, whatever the journal and its changes.
 */

const DAY = '2026-11-29';
const BASE = Date.parse(`${DAY}T00:00:00.000Z`);

type Op =
  | { kind: 'begin'; action: 'Sale' | 'Refund' | 'Void'; ref: number; terminal: string; currency: string | undefined; amount: string | undefined; minutes: number }
  | { kind: 'settle'; pick: number; state: Exclude<JournalState, 'open'>; verdict: string | undefined; outcomeAmount: string | undefined };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('begin' as const),
    action: fc.constantFrom('Sale' as const, 'Refund' as const, 'Void' as const),
    ref: fc.integer({ min: 0, max: 9 }),
    terminal: fc.constantFrom('T1', 'T2'),
    currency: fc.constantFrom('TWD', 'USD', undefined),
    amount: fc.constantFrom('10.00', '0.05', '999999999999.99', '12.3', '7', 'x', undefined),
    // From the day before to the day after the period.
    minutes: fc.integer({ min: -1440, max: 2 * 1440 }),
  }),
  fc.record({
    kind: fc.constant('settle' as const),
    pick: fc.nat(),
    state: fc.constantFrom('Success' as const, 'Failed' as const, 'NotSent' as const),
    verdict: fc.constantFrom('approved', 'declined', 'voided', undefined),
    outcomeAmount: fc.constantFrom('5.00', undefined),
  }),
);

/** A journal's in-memory view as a map, changed by `op`: the entry changed, or none. */
function play(journal: Map<string, JournalEntry>, op: Op, n: number): JournalEntry | undefined {
  if (op.kind === 'begin') {
    const e: JournalEntry = {
      referenceID: `R${op.ref}`,
      action: op.action,
      ...(op.amount !== undefined ? { amount: op.amount } : {}),
      ...(op.currency !== undefined ? { currency: op.currency } : {}),
      terminal: op.terminal,
      requestID: `q${n}`,
      state: 'open',
      // Unique times: the list's order is then the one order.
      openedAt: new Date(BASE + op.minutes * 60_000 + n).toISOString(),
    };
    const key = journalKey(e.action, e.referenceID);
    journal.delete(key);
    journal.set(key, e);
    return e;
  }
  const keys = [...journal.keys()];
  if (keys.length === 0) return undefined;
  const key = keys[op.pick % keys.length]!;
  const e: JournalEntry = {
    ...journal.get(key)!,
    state: op.state,
    closedAt: new Date(BASE + n).toISOString(),
    outcome: { ...(op.verdict !== undefined ? { verdict: op.verdict } : {}), ...(op.outcomeAmount !== undefined ? { amount: op.outcomeAmount } : {}) },
  };
  journal.delete(key);
  journal.set(key, e);
  return e;
}

const keys = (entries: JournalEntry[]) => entries.map((e) => `${journalKey(e.action, e.referenceID)}@${e.openedAt}:${e.state}`);

describe('journal period view (incremental totals and list)', function () {
  this.timeout(60_000);

  it('gives the same totals and lists as the full computation, for random journals changed in random batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom<{ from?: string; to?: string }>({ from: `${DAY}T00:00:00.000Z`, to: `${DAY}T23:59:59.999Z` }, {}, { from: `${DAY}T12:00:00.000Z` }),
        fc.constantFrom('T1', undefined),
        fc.constantFrom<{ state?: 'open' | 'settled'; result?: string } | undefined>(undefined, { state: 'open' }, { state: 'settled' }, { result: 'voided' }, { result: 'declined' }),
        fc.integer({ min: 1, max: 6 }),
        (batches, period, terminal, filter, limit) => {
          const journal = new Map<string, JournalEntry>();
          const options = { ...period, ...(terminal !== undefined ? { terminal } : {}) };
          const view = new PeriodView(options, (action, ref) => journal.get(journalKey(action, ref)));
          let n = 0;
          for (const batch of batches) {
            const changed: JournalEntry[] = [];
            for (const op of batch) {
              const e = play(journal, op, n++);
              if (e !== undefined) changed.push(e);
            }
            view.apply(changed);
            const all = [...journal.values()];
            assert.deepEqual(view.totals(), journalTotals(all, options));
            const full = queryJournal(all, { ...options, ...(filter ?? {}) });
            const got = view.list(limit, filter === undefined ? undefined : (e) => stateMatches(e, filter));
            assert.equal(got.count, full.length);
            assert.deepEqual(keys(got.entries), keys(full.slice(0, limit)));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  describe('a Journal\'s change feed', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-feed-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('gives what changed since a cursor, nothing when nothing did, and starts over after compaction', async () => {
      const journal = new Journal(path.join(dir, 'journal-t.jsonl'), { maxSettled: 4 });
      try {
        const start = journal.changes.cursor;
        await journal.begin({ referenceID: 'A', action: 'Sale', amount: '1.00', currency: 'TWD', terminal: 'T', requestID: 'q1' });
        await journal.recordOutcome('Sale', 'A', 'Success', { verdict: 'approved' });
        const first = journal.changes.since(start)!;
        assert.deepEqual(first.entries.map((e) => e.state), ['open', 'Success']);
        assert.deepEqual(journal.changes.since(first.cursor)!.entries, []);
        // Past the bound: compaction drops settled entries from memory.
        for (let i = 0; i < 6; i++) {
          await journal.begin({ referenceID: `B${i}`, action: 'Sale', amount: '1.00', currency: 'TWD', terminal: 'T', requestID: `b${i}` });
          await journal.recordOutcome('Sale', `B${i}`, 'Success', { verdict: 'approved' });
        }
        await journal.close();
        assert.equal(journal.changes.since(first.cursor), undefined, 'a compacted journal asks its readers to start over');
      } finally {
        await journal.close();
      }
    });

    it('asks a reader too far behind to start over', async () => {
      const journal = new Journal(path.join(dir, 'journal-u.jsonl'));
      try {
        const start = journal.changes.cursor;
        const writes: Array<Promise<unknown>> = [];
        for (let i = 0; i < 9000; i++) writes.push(journal.begin({ referenceID: `C${i}`, action: 'Sale', amount: '1.00', currency: 'TWD', terminal: 'T', requestID: `c${i}` }));
        await Promise.all(writes);
        assert.equal(journal.changes.since(start), undefined);
        const recent = journal.changes.cursor;
        await journal.begin({ referenceID: 'D', action: 'Sale', amount: '1.00', currency: 'TWD', terminal: 'T', requestID: 'd' });
        assert.deepEqual(journal.changes.since(recent)!.entries.map((e) => e.referenceID), ['D']);
      } finally {
        await journal.close();
      }
    });
  });
});
