import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ledger, openLedger, WonderCipher, type JournalAction, type JournalOutcome, type JournalState } from '../lib';
import { PendingError, TerminalSession } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { ScriptedTransport } from './helpers/scripted-transport';

/**
 * Terminals that answer in ways the seeds allow but do not show: each case is
 * one of the ways the outcome model was found to break, tried again.
 */
const PIN = '260880';
const cipher = new WonderCipher(PIN);
const approved = (amount: string) => ({ status: 'Success', errorCode: '', errorMessage: '', amount, currency: 'HKD', transactionStatus: 'Success' });

function session(transport: ScriptedTransport | SimulatorTransport, extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  const s = new TerminalSession({
    transport,
    pairingCode: PIN,
    clientDeviceSN: 'T',
    commandTimeoutMs: 300,
    paymentTimeoutMs: 300,
    statusPollIntervalMs: 20,
    resolveTimeoutMs: 400,
    ...extra,
  });
  return s;
}

const sessions: TerminalSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});
async function open(s: TerminalSession) {
  sessions.push(s);
  await s.open();
  return s;
}

describe('outcomes against odd but legal terminals', () => {
  it("a Refund refused as a duplicate of a Sale's reference is never reported done (the simulator's books)", async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const s = await open(session(new SimulatorTransport({ terminal })));
    await s.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S1' });
    await s.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'S0' });
    await assert.rejects(s.request('Refund', { amount: '5.00', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'S1' }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'E_REFERENCE_TAKEN');
      assert.equal((err as { referenceID?: string }).referenceID, 'S1');
      assert.equal((err as { notSent?: boolean }).notSent, false);
      return true;
    });
    assert.equal(terminal.transactions.get('S0')!.refundedCents, 0);
  });

  it("a Refund whose lookup finds a sale-shaped record (no kind, no orgReferenceID) stays unknown: E_PENDING, not Success", async () => {
    const t = new ScriptedTransport(cipher, (tr, id, action) => {
      if (action === 'Refund') tr.answer(id, 'Refund', { status: 'Failed', errorCode: 'DUP', errorMessage: 'Duplicate referenceID' });
      else tr.answer(id, 'TransactionStatus', approved('5.00'));
    });
    const s = await open(session(t));
    await assert.rejects(s.request('Refund', { amount: '5.00', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'S1' }), (err: unknown) => {
      assert.ok(err instanceof PendingError);
      assert.equal(err.referenceID, 'S1');
      assert.equal(err.reason, 'no-evidence');
      return true;
    });
    assert.equal(t.count('Refund'), 1);
  });

  for (const [name, first, lookup, expected] of [
    ['Success with transactionStatus Failed', { ...approved('10.20'), transactionStatus: 'Failed', errorMessage: 'Declined by issuer' }, { ...approved('10.20'), transactionStatus: 'Failed' }, 'Failed'],
    ['Failed with transactionStatus Success (the card was charged)', { ...approved('10.20'), status: 'Failed' }, approved('10.20'), 'Success'],
  ] as const) {
    it(`a Sale answered ${name} is settled by its lookup, not by either word`, async () => {
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, action === 'Sale' ? { ...first } : { ...lookup }));
      const s = await open(session(t));
      const out = await s.request('Sale', { amount: '10.20', currency: 'HKD' });
      assert.equal(out.result, expected);
      assert.equal(out.resolvedBy, 'TransactionStatus');
      assert.equal(t.count('Sale'), 1);
    });
  }

  for (const failed of [
    { status: 'Failed', errorCode: '99', errorMessage: 'internal error, please retry' },
    { status: 'Failed', errorCode: 'NOT_FOUND', errorMessage: 'Transaction not found' },
  ]) {
    it(`a lost answer followed by lookups "${failed.errorMessage}" is never a decline: E_PENDING with the reference; the terminal's later approval settles it`, async () => {
      let lookups = 0;
      let booksSay: Record<string, unknown> = failed;
      const t = new ScriptedTransport(cipher, (tr, id, action) => {
        if (action === 'TransactionStatus') {
          lookups++;
          tr.answer(id, action, booksSay);
        }
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-outcome-'));
      const journal = openLedger(path.join(dir, 'j.db'));
      const s = await open(session(t, { journal }));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'LOST' }), (err: unknown) => {
        assert.ok(err instanceof PendingError);
        assert.equal(err.referenceID, 'LOST');
        assert.equal(err.notSent, false);
        assert.equal(err.heardFrom, true);
        assert.equal(err.reason, 'lookup-failed');
        return true;
      });
      assert.ok(lookups >= 2, `${lookups} lookups`);
      // The terminal's books: approved. Asked again (a redelivery), it is approved, and nothing is sent twice.
      booksSay = approved('10.20');
      const again = await s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'LOST' });
      assert.equal(again.result, 'Success');
      assert.equal(again.duplicate, true);
      assert.equal(t.count('Sale'), 1);
      await journal.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  for (const [name, last] of [
    ['its own customerOrderID', { customerOrderID: 'ORDER-OTHER' }],
    ['its own referenceID', { referenceID: 'OTHER-SALE', customerOrderID: 'ORDER-MINE' }],
    ['another customerOrderID where this sale was sent with its own default (its referenceID)', { customerOrderID: 'ORDER-OTHER' }, 'none'],
  ] as const) {
    it(`a lost answer, then every lookup answered with the terminal's last transaction (another sale of the same amount, ${name}): stays unknown, E_PENDING, the journal entry open`, async () => {
      const t = new ScriptedTransport(cipher, (tr, id, action) => {
        if (action === 'TransactionStatus') tr.answer(id, action, { ...approved('10.20'), transactionType: 'Sale', ...last });
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-outcome-'));
      const journal = openLedger(path.join(dir, 'j.db'));
      const s = await open(session(t, { journal }));
      const order = name.includes('own default') ? {} : { customerOrderID: 'ORDER-MINE' };
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'MINE', ...order }), (err: unknown) => {
        assert.ok(err instanceof PendingError, String(err));
        assert.equal(err.referenceID, 'MINE');
        assert.equal(err.reason, 'referenceID' in last ? 'another-payment' : 'reference-taken');
        return true;
      });
      assert.ok(t.count('TransactionStatus') >= 2);
      assert.equal(t.count('Sale'), 1);
      assert.equal(journal.get('Sale', 'MINE')!.state, 'open');
      // A sale given no customerOrderID is sent with its referenceID as one (the lookup names a sale by it).
      assert.equal(journal.get('Sale', 'MINE')!.customerOrderID, name.includes('own default') ? 'MINE' : 'ORDER-MINE');
      await journal.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  it("a refusal as a duplicate, then a lookup naming another referenceID: E_PENDING (asked again), never E_REFERENCE_TAKEN on another payment's word", async () => {
    const t = new ScriptedTransport(cipher, (tr, id, action) => {
      if (action === 'Sale') tr.answer(id, 'Sale', { status: 'Failed', errorCode: 'DUPLICATE', errorMessage: 'referenceID has been used' });
      else tr.answer(id, action, { ...approved('99.00'), referenceID: 'SOMEONE-ELSE' });
    });
    const s = await open(session(t));
    await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'D1' }), (err: unknown) => err instanceof PendingError && err.reason === 'another-payment');
    assert.equal(t.count('Sale'), 1);
  });

  it('an answer with no answer at all from the terminal is E_PENDING that says it heard nothing (the CLI exits 3 on it)', async () => {
    const t = new ScriptedTransport(cipher, () => undefined);
    const s = await open(session(t));
    await assert.rejects(s.request('Sale', { amount: '1.00', currency: 'HKD' }), (err: unknown) => err instanceof PendingError && err.heardFrom === false);
  });

  it('on LAN, a reply that answers another action is settled by TransactionStatus at once, not after the card time-out', async () => {
    const t = new ScriptedTransport(
      cipher,
      (tr, id, action) => {
        if (action === 'Sale') tr.answer(id, 'Refund', approved('10.20'));
        else tr.answer(id, action, approved('10.20'));
      },
      'lan',
    );
    const s = await open(session(t, { paymentTimeoutMs: 600_000 }));
    const strays: unknown[] = [];
    s.on('stray', (x) => strays.push(x));
    const out = await s.request('Sale', { amount: '10.20', currency: 'HKD' });
    assert.equal(out.result, 'Success');
    assert.equal(out.resolvedBy, 'TransactionStatus');
    assert.equal(strays.length, 1);
  });

  it('a stray message that does not decrypt does not fail the request whose genuine answer follows', async () => {
    const other = new WonderCipher('999999');
    const t = new ScriptedTransport(cipher, (tr, id, action) => {
      tr.answer(id, action, approved('10.20'), other);
      setImmediate(() => tr.answer(id, action, approved('10.20')));
    });
    const s = await open(session(t));
    const out = await s.request('Sale', { amount: '10.20', currency: 'HKD' });
    assert.equal(out.result, 'Success');
    assert.equal(out.resolvedBy, undefined);
  });

  it('only messages that do not decrypt: a security error, never a decline', async () => {
    const other = new WonderCipher('999999');
    const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, approved('10.20'), other));
    const s = await open(session(t, { paymentTimeoutMs: 5_000 }));
    await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'K1' }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'E_SECURITY');
      assert.equal((err as { referenceID?: string }).referenceID, 'K1');
      assert.equal((err as { notSent?: boolean }).notSent, false);
      return true;
    });
  });

  it('amounts are one: a sale sent as 10.2 goes out as "10.20", an answer of 10.2 matches it', async () => {
    const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, { ...approved('10.2'), amount: 10.2 }));
    const s = await open(session(t));
    const out = await s.request('Sale', { amount: 10.2, currency: 'HKD' });
    assert.equal(out.result, 'Success');
    assert.equal(t.sent[0]!.plain.body!.amount, '10.20');
  });

  describe('with a journal', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-outcome-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('the terminal approves, then the journal cannot record it (disk full): the outcome is still delivered, with E_JOURNAL beside it', async () => {
      class FullDisk extends Ledger {
        override async recordOutcome(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<never> {
          await super.recordOutcome(action, referenceID, state, outcome).catch(() => undefined);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
      }
      const journal = new FullDisk(path.join(dir, 'j.db'));
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, approved('10.20')));
      const s = await open(session(t, { journal }));
      const warned: unknown[] = [];
      s.on('journal-behind', (w) => warned.push(w));
      const out = await s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'FULL' });
      assert.equal(out.result, 'Success');
      assert.equal(out.journalBehind?.code, 'E_JOURNAL');
      assert.equal(warned.length, 1);
      // This process knows it is settled: a redelivery is not sent again.
      const again = await s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'FULL' });
      assert.equal(again.duplicate, true);
      assert.equal(t.count('Sale'), 1);
      await journal.close();
    });

    it('a journal that cannot record a payment before it leaves stops it: E_JOURNAL, notSent, nothing on the wire', async () => {
      class ReadOnly extends Ledger {
        override async begin(): Promise<never> {
          throw new Error('EROFS: read-only file system');
        }
      }
      const journal = new ReadOnly(path.join(dir, 'j.db'));
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, approved('10.20')));
      const s = await open(session(t, { journal }));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'RO' }), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'E_JOURNAL');
        assert.equal((err as { notSent?: boolean }).notSent, true);
        assert.equal((err as { referenceID?: string }).referenceID, 'RO');
        return true;
      });
      assert.equal(t.count('Sale'), 0);
      await journal.close();
    });

    it('a pending payment settled by a status lookup (the status node) closes its journal entry at once: recovery emits nothing later', async () => {
      const journal = openLedger(path.join(dir, 'j.db'));
      let books: Record<string, unknown> = { status: 'Pending', errorCode: '', errorMessage: '' };
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, action === 'Sale' ? { status: 'Pending', errorCode: '', errorMessage: '' } : { ...books }));
      const s = await open(session(t, { journal, terminalId: 'T1' }));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'P1' }), PendingError);
      assert.equal(journal.get('Sale', 'P1')!.state, 'open');
      books = approved('10.20');
      const status = await s.request('TransactionStatus', { targetReferenceID: 'P1' });
      assert.equal(status.result, 'Success');
      assert.deepEqual(status.settledPayment, { action: 'Sale', referenceID: 'P1', result: 'Success' });
      assert.equal(journal.get('Sale', 'P1')!.state, 'Success');
      const recovered: unknown[] = [];
      s.on('recovered', (r) => recovered.push(r));
      assert.deepEqual(await s.recover(), []);
      await s.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'P2' }).catch(() => undefined);
      assert.equal(recovered.length, 0);
      await journal.close();
    });

    it('a lookup (an operator\'s Check now) that settles an unknown payment the ledger then cannot record (disk full): recovered carries E_JOURNAL (simulation seed 2135)', async () => {
      let full = false;
      class FillingDisk extends Ledger {
        override async recordOutcome(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<never> {
          if (!full) return super.recordOutcome(action, referenceID, state, outcome) as Promise<never>;
          await super.recordOutcome(action, referenceID, state, outcome).catch(() => undefined);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
      }
      const journal = new FillingDisk(path.join(dir, 'j.db'));
      let books: Record<string, unknown> = { status: 'Pending', errorCode: '', errorMessage: '' };
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, action === 'Sale' ? { status: 'Pending', errorCode: '', errorMessage: '' } : { ...books }));
      const s = await open(session(t, { journal, terminalId: 'T1' }));
      const recovered: Array<{ entry: { referenceID: string }; outcome: { result?: string; journalBehind?: { code: string } } }> = [];
      s.on('recovered', (r) => recovered.push(r));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'DF1' }, { origin: 'sale-node' }), PendingError);
      books = approved('10.20');
      full = true;
      await s.request('TransactionStatus', { targetReferenceID: 'DF1' });
      // The flow is told, once, and told the ledger is behind: a restart may learn (and deliver) it again.
      assert.equal(recovered.length, 1);
      assert.equal(recovered[0]!.entry.referenceID, 'DF1');
      assert.equal(recovered[0]!.outcome.result, 'Success');
      assert.equal(recovered[0]!.outcome.journalBehind?.code, 'E_JOURNAL');
      await journal.close();
    });

    it('a lookup that settles a payment whose caller was told "unknown" emits it once as recovered, delivered in the ledger; asked again, nothing more', async () => {
      const journal = openLedger(path.join(dir, 'j.db'));
      let books: Record<string, unknown> = { status: 'Pending', errorCode: '', errorMessage: '' };
      const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, action === 'Sale' ? { status: 'Pending', errorCode: '', errorMessage: '' } : { ...books }));
      const s = await open(session(t, { journal, terminalId: 'T1' }));
      const recovered: Array<{ entry: { referenceID: string }; outcome: { result?: string; duplicate?: boolean } }> = [];
      s.on('recovered', (r) => recovered.push(r));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'P5' }, { origin: 'sale-node' }), PendingError);
      // Still unknown at the terminal: nothing is delivered.
      await s.request('TransactionStatus', { targetReferenceID: 'P5' });
      assert.equal(recovered.length, 0);
      books = approved('10.20');
      await s.request('TransactionStatus', { targetReferenceID: 'P5' });
      assert.equal(recovered.length, 1);
      assert.equal(recovered[0]!.entry.referenceID, 'P5');
      assert.equal(recovered[0]!.outcome.result, 'Success');
      assert.equal(recovered[0]!.outcome.duplicate, undefined);
      await journal.settled();
      assert.ok(journal.get('Sale', 'P5')!.deliveredAt !== undefined, 'the delivery is recorded');
      await s.request('TransactionStatus', { targetReferenceID: 'P5' });
      assert.deepEqual(await s.recover(), []);
      assert.equal(recovered.length, 1);
      await journal.close();
    });

    it("a status lookup that describes another transaction does not close the entry, and its result is Unknown", async () => {
      const journal = openLedger(path.join(dir, 'j.db'));
      const t = new ScriptedTransport(cipher, (tr, id, action) =>
        tr.answer(id, action, action === 'Sale' ? { status: 'Pending', errorCode: '', errorMessage: '' } : approved('99.00')),
      );
      const s = await open(session(t, { journal, terminalId: 'T1' }));
      await assert.rejects(s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'P3' }), PendingError);
      const status = await s.request('TransactionStatus', { targetReferenceID: 'P3' });
      assert.equal(status.result, 'Unknown');
      assert.equal(status.reason, 'reference-taken');
      assert.equal(journal.get('Sale', 'P3')!.state, 'open');
      await journal.close();
    });
  });

  it('requests still queued at close say notSent: true; the one in flight says notSent: false and carries its reference', async () => {
    const t = new ScriptedTransport(cipher, () => undefined);
    const s = await open(session(t, { paymentTimeoutMs: 60_000 }));
    const inFlight = s.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'F1' });
    const queued = s.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'Q1' });
    const checks = Promise.all([
      assert.rejects(inFlight, (err: unknown) => (err as { notSent?: boolean }).notSent === false && (err as { referenceID?: string }).referenceID === 'F1'),
      assert.rejects(queued, (err: unknown) => (err as { notSent?: boolean }).notSent === true && (err as { referenceID?: string }).referenceID === 'Q1'),
    ]);
    await new Promise<void>((resolve) => (t.sent.length > 0 ? resolve() : t.once('sent', resolve)));
    await s.close();
    await checks;
    assert.equal(t.count('Sale'), 1);
  });
});
