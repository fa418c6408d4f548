import { strict as assert } from 'node:assert';
import { openLedger, type JournalEntry, type Ledger } from '../lib/ledger';
import { TerminalSession, type Recovery } from '../lib/session';
import { committed, ledgerBytes, tempLedgerFile, useLedgers } from './helpers/ledger-files';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { until } from './helpers/wait';

const tempFile = () => tempLedgerFile('wonder-journal-');

/** Ledgers the tests opened: closed after each. */
const ledgerAt = useLedgers();

function sessionWith(journal: Ledger, terminal: SimulatedTerminal, extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  return new TerminalSession({
    transport: new SimulatorTransport({ terminal }),
    pairingCode: '260880',
    clientDeviceSN: 'J',
    journal,
    terminalId: 'T1',
    paymentTimeoutMs: 300,
    commandTimeoutMs: 300,
    statusPollIntervalMs: 20,
    resolveTimeoutMs: 1_000,
    ...extra,
  });
}


describe('the ledger under a session (payments recorded before they leave, never sent twice)', () => {
  it('is committed before the request leaves, and settled after', async () => {
    const file = tempFile();
    const journal = ledgerAt(file);
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const session = sessionWith(journal, terminal);
    await session.open();
    const seen: JournalEntry[] = [];
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      // When the terminal sees the Sale, its open row is committed (read through another connection).
      seen.push(...committed(file).values());
      return handle(input);
    };
    const sale = await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'J-1', customerOrderID: 'ORD-7' }, { origin: 'node-1' });
    assert.equal(sale.result, 'Success');
    assert.deepEqual(seen.map((e) => [e.referenceID, e.state, e.node, e.amount, e.currency, e.terminal, e.customerOrderID]), [['J-1', 'open', 'node-1', '5.00', 'HKD', 'T1', 'ORD-7']]);
    const after = committed(file).get('J-1')!;
    assert.equal(after.state, 'Success');
    assert.equal(after.outcome!.status, 'Success');
    assert.deepEqual(journal.byCustomerOrderID('ORD-7').map((e) => e.referenceID), ['J-1']);
    await session.close();
    await journal.close();
    const bytes = ledgerBytes(file);
    assert.ok(bytes.includes('J-1'), 'the ledger bytes were read');
    assert.ok(!bytes.includes('creditCard'), 'card data in the ledger');
    assert.ok(!bytes.includes('260880'));
  });

  it('never sends the same referenceID twice: sequential and simultaneous duplicates get the first outcome', async () => {
    const journal = ledgerAt(tempFile());
    const terminal = new SimulatedTerminal({ cardDelayMs: 30 });
    const session = sessionWith(journal, terminal);
    await session.open();
    const [a, b] = await Promise.all([
      session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' }),
      session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' }),
    ]);
    const c = await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' });
    assert.equal(terminal.count('Sale', 'DUP'), 1);
    assert.deepEqual([a.result, b.result, c.result], ['Success', 'Success', 'Success']);
    assert.equal(a.duplicate, undefined);
    assert.equal(b.duplicate, true);
    assert.equal(c.duplicate, true);
    await assert.rejects(session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'X', referenceID: 'DUP' }), (err: unknown) => {
      assert.match((err as Error).message, /already used by a Sale/);
      assert.deepEqual([(err as { code?: string }).code, (err as { notSent?: boolean }).notSent], ['E_REFERENCE_TAKEN', true]);
      return true;
    });
    assert.equal(terminal.count('Refund'), 0);
    await session.close();
  });

  it('survives a restart with an open entry: settles it by TransactionStatus, not by sending again', async () => {
    const file = tempFile();
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 10_000 });
    let journal = openLedger(file);
    let session = sessionWith(journal, terminal, { resolveTimeoutMs: 100 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'OPEN-1' }, { origin: 'sale-node' }));
    await session.close();
    await journal.close();
    // The terminal settles the sale meanwhile.
    terminal.transactions.get('OPEN-1')!.state = 'Success';
    journal = openLedger(file);
    assert.equal(journal.get('Sale', 'OPEN-1')!.state, 'open');
    session = sessionWith(journal, terminal);
    await session.open();
    const recovered: Recovery[] = [];
    session.on('recovered', (r: Recovery) => recovered.push(r));
    const results = await session.recover();
    assert.equal(results.length, 1);
    assert.equal(recovered[0]!.entry.node, 'sale-node');
    assert.equal(recovered[0]!.outcome!.result, 'Success');
    assert.equal(journal.get('Sale', 'OPEN-1')!.state, 'Success');
    assert.equal(terminal.count('Sale', 'OPEN-1'), 1);
    await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER' });
    await session.close();
    await journal.close();
    const reread = openLedger(file);
    assert.equal(reread.get('Sale', 'AFTER')!.state, 'Success');
    assert.equal(reread.get('Sale', 'OPEN-1')!.state, 'Success');
    await reread.close();
  });

  it('settles an open entry before the next payment is sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 150 });
    const journal = ledgerAt(tempFile());
    const session = sessionWith(journal, terminal, { resolveTimeoutMs: 50 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'P1' }));
    await until('the terminal to approve P1', () => terminal.transactions.get('P1')?.state === 'Success', 5_000);
    const next = await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'P2' });
    assert.equal(next.result, 'Success');
    assert.equal(journal.get('Sale', 'P1')!.state, 'Success');
    const order = terminal.received.map((r) => `${r.action}:${r.referenceID}`);
    assert.ok(order.indexOf('TransactionStatus:P1') < order.indexOf('Sale:P2'), order.join(' '));
    await session.close();
  });

  it('a payment that never left (not connected) may be retried with the same referenceID', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const journal = ledgerAt(tempFile());
    const session = sessionWith(journal, terminal);
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'RETRY' }), (e: unknown) => (e as { code?: string }).code === 'E_CLOSED');
    assert.equal(journal.get('Sale', 'RETRY')!.state, 'NotSent');
    await session.open();
    assert.equal((await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'RETRY' })).result, 'Success');
    assert.equal(terminal.count('Sale', 'RETRY'), 1);
    await session.close();
  });

  it('a sale in flight when the session closes (redeploy) stays open, never marked not-sent', async () => {
    const terminal = new SimulatedTerminal({ slowCardMs: 500 });
    const journal = ledgerAt(tempFile());
    const session = sessionWith(journal, terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'IN-FLIGHT' });
    await until('the sale at the terminal', () => terminal.count('Sale', 'IN-FLIGHT') === 1, 5_000);
    await session.close();
    await assert.rejects(sale);
    assert.equal(journal.get('Sale', 'IN-FLIGHT')!.state, 'open');
    terminal.stop();
  });

  it('a repeat of a referenceID with another amount or currency is refused, naming referenceID', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 20 });
    const session = sessionWith(ledgerAt(tempFile()), terminal);
    await session.open();
    const first = session.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'ORDER-1' });
    await assert.rejects(session.request('Sale', { amount: '200.00', currency: 'HKD', referenceID: 'ORDER-1' }), (e: unknown) => (e as { field?: string }).field === 'referenceID');
    assert.equal((await first).result, 'Success');
    await assert.rejects(session.request('Sale', { amount: '10.00', currency: 'USD', referenceID: 'ORDER-1' }), (e: unknown) => (e as { field?: string }).field === 'referenceID');
    assert.equal(terminal.count('Sale', 'ORDER-1'), 1);
    await session.close();
  });

  it('a Void the terminal refused (busy) may be sent again; a Void settles only when the sale shows Voided', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const session = sessionWith(ledgerAt(tempFile()), terminal, { resolveTimeoutMs: 400 });
    await session.open();
    const sale = await session.request('Sale', { amount: '3.00', currency: 'HKD', referenceID: 'V-1' });
    assert.equal(sale.result, 'Success');
    // Busy: the terminal refuses the first void.
    const realHandle = terminal.handle.bind(terminal);
    let refuse = true;
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      if (refuse && text.includes('"Void"')) {
        refuse = false;
        const cipher = new (await import('../lib/protocol/cipher')).WonderCipher('260880');
        const env = JSON.parse(text) as { data: string };
        const req = cipher.decryptJson(env.data) as { header: { requestID: string } };
        const plain = JSON.stringify({ header: { responseID: req.header.requestID, serverDeviceSN: 'S', timestamp: 't' }, body: { status: 'Failed', errorCode: '50001', errorMessage: 'The equipment is being traded' } });
        return JSON.stringify({ version: '2.0', action: 'Void', data: cipher.encrypt(plain) });
      }
      return realHandle(input);
    };
    const refused = await session.request('Void', { orgReferenceID: 'V-1' });
    assert.equal(refused.result, 'Failed');
    const again = await session.request('Void', { orgReferenceID: 'V-1' });
    assert.equal(again.result, 'Success');
    assert.equal(again.duplicate, undefined);
    assert.equal(terminal.transactions.get('V-1')!.state, 'Voided');
    // A void whose answer is lost while the sale still shows Success is not called Failed.
    const sale2 = await session.request('Sale', { amount: '4.00', currency: 'HKD', referenceID: 'V-2' });
    assert.equal(sale2.result, 'Success');
    const originalState = () => terminal.transactions.get('V-2')!.state;
    const handle2 = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      // The terminal takes its time to apply the void: the sale shows Success meanwhile.
      if (text.includes('"Void"')) return null;
      return handle2(input);
    };
    await assert.rejects(session.request('Void', { orgReferenceID: 'V-2' }, { timeoutMs: 100 }), (e: unknown) => (e as { code?: string }).code === 'E_PENDING');
    assert.equal(originalState(), 'Success');
    await session.close();
  });

  it('a Failed answer saying the reference was used is settled by status: the earlier approval, not a decline', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    // A journal that does not know the earlier sale (a new file, as after a re-created config node).
    const first = sessionWith(ledgerAt(tempFile()), terminal);
    await first.open();
    assert.equal((await first.request('Sale', { amount: '6.00', currency: 'HKD', referenceID: 'KNOWN-TO-TERMINAL' })).result, 'Success');
    await first.close();
    const second = sessionWith(ledgerAt(tempFile()), terminal);
    await second.open();
    const again = await second.request('Sale', { amount: '6.00', currency: 'HKD', referenceID: 'KNOWN-TO-TERMINAL' });
    assert.equal(again.result, 'Success');
    assert.equal(again.duplicate, true);
    assert.equal(again.resolvedBy, 'TransactionStatus');
    await second.close();
  });

  it('a refused new payment (an earlier one unresolved) is E_BLOCKED, not E_PENDING, and is not sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 60_000 });
    // A long card window: the unresolved sale may still be in progress on the terminal, so it holds the next one back
    // (past its window it would not: test/faults.test.ts, terminal reboot).
    const session = sessionWith(ledgerAt(tempFile()), terminal, { resolveTimeoutMs: 60, paymentTimeoutMs: 60_000 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'STILL-OPEN' }), (e: unknown) => (e as { code?: string }).code === 'E_PENDING');
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'NEXT' }), (e: unknown) => (e as { code?: string }).code === 'E_BLOCKED');
    assert.equal(terminal.count('Sale', 'NEXT'), 0);
    terminal.stop();
    await session.close();
  });

  it('an abort that loses the race: the payment is reported approved, and says so', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 50 });
    const session = sessionWith(ledgerAt(tempFile()), terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    // The terminal reads the card before the abort arrives.
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      // The simulated terminal is slow to take the abort: part of the scenario, not a wait for something.
      if (text.includes('"Abort"')) await new Promise((r) => setTimeout(r, 100));
      return handle(input);
    };
    // The abort is asked once the sale is journaled and waits for the card (not after a fixed
    // 10 ms: the journal's flush alone can take longer on a busy disk).
    const waitingCard = new Promise<void>((resolve) => {
      const seen = (a: { kind: string }) => {
        if (a.kind !== 'waiting-card') return;
        session.off('activity', seen);
        resolve();
      };
      session.on('activity', seen);
    });
    const sale = session.request('Sale', { amount: '9.00', currency: 'HKD' });
    await waitingCard;
    await session.request('Abort');
    const out = await sale;
    assert.equal(out.result, 'Success');
    assert.equal(out.approvedDespiteAbort, true);
    await session.close();
  });
});
