import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal } from '../lib/journal';
import { TerminalSession, type Recovery } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator';
import { SimulatorTransport } from '../lib/transport-simulator';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-journal-')), 'journal.jsonl');
}

function sessionWith(journal: Journal, terminal: SimulatedTerminal, extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
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

describe('transaction journal', () => {
  it('is on disk before the request leaves, and settled after', async () => {
    const file = tempFile();
    const journal = new Journal(file);
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const session = sessionWith(journal, terminal);
    await session.open();
    const seen: string[] = [];
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      // When the terminal sees the Sale, its open entry is already on disk.
      seen.push(fs.readFileSync(file, 'utf8'));
      return handle(input);
    };
    const sale = await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'J-1' }, { origin: 'node-1' });
    assert.equal(sale.result, 'Success');
    const atSend = seen[0]!.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(atSend.map((e) => [e.referenceID, e.state, e.node, e.amount, e.currency, e.terminal]), [['J-1', 'open', 'node-1', '5.00', 'HKD', 'T1']]);
    const after = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(after.at(-1).state, 'Success');
    assert.equal(after.at(-1).outcome.status, 'Success');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('creditCard'), 'card data in the journal');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('260880'));
    await session.close();
    await journal.close();
  });

  it('never sends the same referenceID twice: sequential and simultaneous duplicates get the first outcome', async () => {
    const journal = new Journal(tempFile());
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
    await assert.rejects(session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'X', referenceID: 'DUP' }), /already used by a Sale/);
    await session.close();
  });

  it('survives a restart with an open entry: settles it by TransactionStatus, not by sending again', async () => {
    const file = tempFile();
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 10_000 });
    let journal = new Journal(file);
    let session = sessionWith(journal, terminal, { resolveTimeoutMs: 100 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'OPEN-1' }, { origin: 'sale-node' }));
    await session.close();
    await journal.close();
    // "Power cut": a torn last line after the open entry.
    fs.appendFileSync(file, '{"referenceID":"TORN","act');
    // The terminal settles the sale meanwhile.
    terminal.transactions.get('OPEN-1')!.state = 'Success';
    journal = new Journal(file);
    assert.equal(journal.get('Sale', 'OPEN-1')!.state, 'open');
    assert.equal(journal.byReference('TORN'), undefined);
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
    // Appends after the torn line are readable.
    await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER' });
    await session.close();
    await journal.close();
    const reread = new Journal(file);
    assert.equal(reread.get('Sale', 'AFTER')!.state, 'Success');
    await reread.close();
  });

  it('settles an open entry before the next payment is sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 150 });
    const journal = new Journal(tempFile());
    const session = sessionWith(journal, terminal, { resolveTimeoutMs: 50 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'P1' }));
    await new Promise((r) => setTimeout(r, 200));
    const next = await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'P2' });
    assert.equal(next.result, 'Success');
    assert.equal(journal.get('Sale', 'P1')!.state, 'Success');
    const order = terminal.received.map((r) => `${r.action}:${r.referenceID}`);
    assert.ok(order.indexOf('TransactionStatus:P1') < order.indexOf('Sale:P2'), order.join(' '));
    await session.close();
  });

  it('a payment that never left (not connected) may be retried with the same referenceID', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const journal = new Journal(tempFile());
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
    const journal = new Journal(tempFile());
    const session = sessionWith(journal, terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'IN-FLIGHT' });
    await new Promise((r) => setTimeout(r, 50));
    await session.close();
    await assert.rejects(sale);
    assert.equal(journal.get('Sale', 'IN-FLIGHT')!.state, 'open');
    terminal.stop();
  });

  it('is bounded: old settled entries rotate out, open ones stay', async () => {
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 50 });
    await journal.begin({ referenceID: 'KEEP-OPEN', action: 'Sale', terminal: 'T', requestID: 'r' });
    for (let i = 0; i < 500; i++) {
      await journal.begin({ referenceID: `S${i}`, action: 'Sale', terminal: 'T', requestID: `r${i}` });
      await journal.settle('Sale', `S${i}`, 'Success');
    }
    assert.ok(journal.size <= 50 * 1.25 + 1, `size ${journal.size}`);
    assert.equal(journal.get('Sale', 'KEEP-OPEN')!.state, 'open');
    assert.equal(journal.get('Sale', 'S499')!.state, 'Success');
    assert.equal(journal.get('Sale', 'S0'), undefined);
    await journal.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').length;
    assert.ok(lines < 200, `${lines} lines on disk`);
  });

  it('an abort that loses the race: the payment is reported approved, and says so', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 50 });
    const session = sessionWith(new Journal(tempFile()), terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    // The terminal reads the card before the abort arrives.
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      if (text.includes('"Abort"')) await new Promise((r) => setTimeout(r, 100));
      return handle(input);
    };
    const sale = session.request('Sale', { amount: '9.00', currency: 'HKD' });
    await new Promise((r) => setTimeout(r, 10));
    await session.request('Abort');
    const out = await sale;
    assert.equal(out.result, 'Success');
    assert.equal(out.approvedDespiteAbort, true);
    await session.close();
  });
});
