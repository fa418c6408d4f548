import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../lib/clock';
import { SimulatedTerminal, SimulatorTransport } from '../lib/simulator';
import { Terminal, UNRESOLVED_RETRY_MAX_MS, UNRESOLVED_RETRY_MS } from '../lib/terminal';
import type { Recovery } from '../lib/session';
import { fillLedger } from '../bench/ledger-fill';

/** Polls `check` every 5 ms until it holds (work between the manual clock's steps: a ledger on its writer thread); fails naming `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('an old payment whose outcome stays unknown is asked about again with back-off, never given up (ManualClock)', () => {
  let dir: string;
  let terminal: Terminal | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-unresolved-'));
  });
  afterEach(async () => {
    await terminal?.close();
    terminal = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an old payment\'s lookup gets the whole command time-out: a slow terminal\'s approval is learnt (its answer 1.5 s later on the manual clock, inside the 3 s time-out)', async () => {
    const file = path.join(dir, 'ledger.db');
    fillLedger(file, [
      { referenceID: 'SLOW-1', action: 'Sale', terminal: 'sim-1', requestID: 'r-slow', amount: '5.00', currency: 'HKD', customerOrderID: 'SLOW-1', state: 'open', openedAt: new Date(Date.now() - 3_600_000).toISOString() },
    ]);
    // Its wall reading starts at the real time the ledger's entry was written at (an hour ago: past its window).
    const clock = new ManualClock({ wall: Date.now() });
    const sim = new SimulatedTerminal({ cardDelayMs: 20, clock });
    sim.transactions.set('SLOW-1', {
      referenceID: 'SLOW-1',
      kind: 'Sale',
      amount: '5.00',
      currency: 'HKD',
      customerOrderID: 'SLOW-1',
      state: 'Success',
      errorCode: '',
      errorMessage: '',
      rrn: '000000000002',
      brn: '000002',
      transactionTime: new Date().toISOString(),
      refundedCents: 0,
    });
    // Answers a lookup after 1.5 s: past the 1 s an old payment's lookup had, within the 3 s command time-out.
    sim.delays.TransactionStatus = 1_500;
    terminal = new Terminal({
      config: { transport: 'simulator' },
      transport: new SimulatorTransport({ terminal: sim }),
      pairingCode: undefined,
      paymentTimeoutMs: 5_000,
      commandTimeoutMs: 3_000,
      busyPolicy: 'queue',
      ledgerFile: file,
      terminalId: 'sim-1',
      clock,
    });
    const recovered: Recovery[] = [];
    const unresolved: Recovery[] = [];
    terminal.on('recovered', (r: Recovery) => recovered.push(r));
    terminal.on('unresolved', (r: Recovery) => unresolved.push(r));
    await terminal.open();
    await until('the lookup', () => sim.received.some((r) => r.action === 'TransactionStatus'));
    await clock.advance(1_499);
    assert.equal(recovered.length + unresolved.length, 0);
    await clock.advance(1);
    await until('the slow lookup to settle it', () => recovered.length + unresolved.length > 0);
    assert.deepEqual(unresolved, []);
    assert.equal(recovered[0]!.entry.referenceID, 'SLOW-1');
    assert.equal(recovered[0]!.outcome?.result, 'Success');
    assert.equal(sim.received.filter((r) => r.action === 'TransactionStatus').length, 1);
  });

  it('asked at start, then after 30 s, 60 s, 120 s … (monotonic), warned each time with its reference; settled once the terminal knows it, then no more asking', async () => {
    const file = path.join(dir, 'ledger.db');
    // A sale opened an hour ago (past its card window): the terminal was restarted and does not know it.
    fillLedger(file, [
      { referenceID: 'OLD-1', action: 'Sale', terminal: 'sim-1', requestID: 'r-old', amount: '5.00', currency: 'HKD', customerOrderID: 'OLD-1', state: 'open', openedAt: new Date(Date.now() - 3_600_000).toISOString() },
    ]);
    const sim = new SimulatedTerminal({ cardDelayMs: 20 });
    // Its wall reading starts at the real time the ledger's entries were written at (an hour ago: past their window).
    const clock = new ManualClock({ wall: Date.now() });
    terminal = new Terminal({
      config: { transport: 'simulator' },
      transport: new SimulatorTransport({ terminal: sim }),
      pairingCode: undefined,
      paymentTimeoutMs: 5_000,
      busyPolicy: 'queue',
      ledgerFile: file,
      terminalId: 'sim-1',
      clock,
    });
    const unresolved: string[] = [];
    const recovered: Recovery[] = [];
    terminal.on('unresolved', (r: Recovery) => unresolved.push(r.entry.referenceID));
    terminal.on('recovered', (r: Recovery) => recovered.push(r));
    const lookups = () => sim.received.filter((r) => r.action === 'TransactionStatus' && r.referenceID === 'OLD-1').length;

    await terminal.open();
    await until('the lookup at start', () => unresolved.length === 1);
    assert.equal(lookups(), 1);
    assert.deepEqual(unresolved, ['OLD-1']);
    // The wall clock stepped back an hour changes nothing: the back-off runs on the monotonic reading.
    clock.stepWall(-3_600_000);
    // 30 s, 60 s, … doubling up to an hour, and an hour from then on.
    let expected = UNRESOLVED_RETRY_MS;
    let round = 1;
    let atCap = 0;
    while (atCap < 2) {
      await clock.advance(expected - 1);
      assert.equal(lookups(), round, `not before ${expected} ms`);
      await clock.advance(1);
      round++;
      await until(`lookup ${round}`, () => unresolved.length === round);
      assert.equal(lookups(), round);
      if (expected === UNRESOLVED_RETRY_MAX_MS) atCap++;
      expected = Math.min(expected * 2, UNRESOLVED_RETRY_MAX_MS);
    }
    assert.equal(round, 10, '30 s … 1920 s, then 3600 s twice');
    // Never sent again: only asked about.
    assert.equal(sim.received.filter((r) => r.action === 'Sale').length, 0);

    // The terminal now knows it, approved: the next round settles it, once, and no more asking follows.
    sim.transactions.set('OLD-1', {
      referenceID: 'OLD-1',
      kind: 'Sale',
      amount: '5.00',
      currency: 'HKD',
      customerOrderID: 'OLD-1',
      state: 'Success',
      errorCode: '',
      errorMessage: '',
      rrn: '000000000001',
      brn: '000001',
      transactionTime: new Date().toISOString(),
      refundedCents: 0,
    });
    await clock.advance(expected);
    await until('the settlement', () => recovered.length === 1);
    assert.equal(recovered[0]!.outcome?.result, 'Success');
    assert.equal(terminal.openPayments().length, 0);
    const asked = lookups();
    await clock.advance(UNRESOLVED_RETRY_MAX_MS * 2);
    assert.equal(lookups(), asked);
    assert.equal(unresolved.length, round);
  });

});
