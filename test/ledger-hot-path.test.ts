import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { journalKey, openLedger, type JournalEntry } from '../lib/ledger';
import { committed, tempLedgerFile, useLedgers } from './helpers/ledger-files';

/**
 * What a sale asks of the ledger, without a query or a sync it does not need:
 * a delivery note rides in the next transaction, and the payments in hand
 * (their outcome, a receipt, the open payments of a terminal) are answered
 * from what this ledger, the file's only writer, wrote — always as the file
 * holds them.
 */
const sale = (ref: string, terminal = 'T1', over: Partial<JournalEntry> = {}) => ({ referenceID: ref, action: 'Sale' as const, amount: '10.00', currency: 'TWD', terminal, requestID: `q-${ref}`, ...over });

describe('ledger hot path: delivery notes and the payments in hand (real files)', () => {
  const open = useLedgers();

  it('a delivery note rides in the next sale\'s transaction: a sale, its outcome, its note and the next sale make three transactions, not four', async () => {
    const file = tempLedgerFile();
    const ledger = open(file, { noteDelayMs: 60_000 });
    await ledger.begin(sale('WARM'));
    const before = ledger.stats.transactions;
    await ledger.begin(sale('N1'));
    await ledger.recordOutcome('Sale', 'N1', 'Success', { verdict: 'approved', reason: 'approved' });
    const noted = ledger.markDelivered('Sale', 'N1');
    assert.equal(committed(file).get('N1')!.deliveredAt, undefined, 'a note alone waits for a transaction');
    await ledger.begin(sale('N2'));
    await noted;
    assert.equal(ledger.stats.transactions - before, 3);
    assert.notEqual(committed(file).get('N1')!.deliveredAt, undefined, 'committed with the next sale');
    assert.equal(committed(file).get('N2')!.state, 'open');
  });

  it('a note with nothing to ride in is committed once the writer has been idle for noteDelayMs, and at close at the latest', async () => {
    const file = tempLedgerFile();
    const ledger = open(file, { noteDelayMs: 30 });
    await ledger.begin(sale('D1'));
    await ledger.recordOutcome('Sale', 'D1', 'Failed', { verdict: 'declined', reason: 'declined' });
    await ledger.markDelivered('Sale', 'D1');
    assert.notEqual(committed(file).get('D1')!.deliveredAt, undefined);

    const other = tempLedgerFile();
    const waiting = open(other, { noteDelayMs: 3_600_000 });
    await waiting.begin(sale('D2'));
    await waiting.recordOutcome('Sale', 'D2', 'Success', { verdict: 'approved', reason: 'approved' });
    const note = waiting.markDelivered('Sale', 'D2');
    await waiting.close();
    await note;
    assert.notEqual(committed(other).get('D2')!.deliveredAt, undefined, 'committed at close');
  });

  it('settled() commits the notes waiting at once', async () => {
    const file = tempLedgerFile();
    const ledger = open(file, { noteDelayMs: 3_600_000 });
    await ledger.begin(sale('F1'));
    await ledger.recordOutcome('Sale', 'F1', 'Success', { verdict: 'approved', reason: 'approved' });
    void ledger.markDelivered('Sale', 'F1');
    await ledger.settled();
    assert.notEqual(committed(file).get('F1')!.deliveredAt, undefined);
  });

  it('a payment whose first row is refused is not open: no place counts it', async () => {
    const file = tempLedgerFile();
    const ledger = open(file);
    await ledger.begin(sale('OPEN-1', 'T1'));
    // A kind the table's CHECK refuses: the write fails, nothing is committed.
    await assert.rejects(ledger.begin({ ...sale('BAD-1', 'T2'), action: 'Bogus' as never }));
    assert.deepEqual(ledger.openPlaces(), [{ terminal: 'T1', count: 1 }]);
    assert.deepEqual(ledger.openEntries('T2'), []);
    assert.equal(committed(file).has('BAD-1'), false);
  });

  type Op =
    | { kind: 'begin'; ref: number; terminal: number; sn: number | null }
    | { kind: 'settle'; ref: number; state: 'Success' | 'Failed' | 'NotSent' }
    | { kind: 'deliver'; ref: number }
    | { kind: 'reopen' };
  const REFS = 4;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('begin' as const), ref: fc.nat(REFS - 1), terminal: fc.nat(2), sn: fc.option(fc.nat(1), { nil: null }) }),
    fc.record({ kind: fc.constant('settle' as const), ref: fc.nat(REFS - 1), state: fc.constantFrom('Success' as const, 'Failed' as const, 'NotSent' as const) }),
    fc.record({ kind: fc.constant('deliver' as const), ref: fc.nat(REFS - 1) }),
    fc.constant({ kind: 'reopen' as const }),
  );

  it('whatever a sequence of payments, outcomes, notes and restarts: every read answers as the file holds it (property test)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const file = tempLedgerFile();
        let ledger = openLedger(file, { noteDelayMs: 5 });
        try {
          for (const o of ops) {
            const ref = `R${'ref' in o ? o.ref : 0}`;
            const known = ledger.get('Sale', ref);
            if (o.kind === 'begin') {
              // A reference is taken again only after it was never sent (as the session does).
              if (known !== undefined && known.state !== 'NotSent') continue;
              await ledger.begin(sale(ref, `T${o.terminal}`, o.sn === null ? {} : { deviceSn: `SN${o.sn}` }));
            } else if (o.kind === 'settle') {
              if (known?.state !== 'open') continue;
              await ledger.recordOutcome('Sale', ref, o.state, o.state === 'NotSent' ? undefined : { verdict: o.state === 'Success' ? 'approved' : 'declined', reason: 'x' });
            } else if (o.kind === 'deliver') {
              if (known === undefined || known.state === 'open' || known.state === 'NotSent') continue;
              await ledger.markDelivered('Sale', ref);
            } else {
              await ledger.close();
              ledger = openLedger(file, { noteDelayMs: 5 });
            }
            await ledger.settled();
            const disk = committed(file);
            for (let i = 0; i < REFS; i++) {
              const key = journalKey('Sale', `R${i}`);
              assert.deepEqual(ledger.get('Sale', `R${i}`), disk.get(key), `R${i} after ${JSON.stringify(o)}`);
            }
            const openOnDisk = (pick: (e: JournalEntry) => boolean) => [...disk.values()].filter((e) => e.state === 'open' && pick(e)).map((e) => e.referenceID).sort();
            const openHere = (entries: JournalEntry[]) => entries.map((e) => e.referenceID).sort();
            for (let t = 0; t < 3; t++) {
              for (const sn of [undefined, 'SN0', 'SN1']) {
                const filter = { terminal: `T${t}`, ...(sn !== undefined ? { deviceSn: sn } : {}) };
                assert.deepEqual(openHere(ledger.openEntries(filter)), openOnDisk((e) => e.terminal === filter.terminal || (sn !== undefined && e.deviceSn === sn)), `open of ${JSON.stringify(filter)}`);
              }
            }
            assert.deepEqual(openHere(ledger.openEntries()), openOnDisk(() => true));
            const places = new Map<string, number>();
            for (const e of disk.values()) if (e.state === 'open') places.set(`${e.terminal}|${e.deviceSn ?? ''}`, (places.get(`${e.terminal}|${e.deviceSn ?? ''}`) ?? 0) + 1);
            assert.deepEqual(new Map(ledger.openPlaces().map((p) => [`${p.terminal}|${p.deviceSn ?? ''}`, p.count])), places, 'open payments by place');
          }
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
