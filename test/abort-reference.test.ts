import { strict as assert } from 'node:assert';
import { decideAnswer, decideLookup, isWonderError, ValidationError } from '../lib';
import { TerminalSession } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { until } from './helpers/wait';

const PIN = '260880';


const code = (expected: string, notSent?: boolean) => (err: unknown) => {
  assert.ok(isWonderError(err), String(err));
  assert.equal(err.code, expected);
  if (notSent !== undefined) assert.equal(err.notSent, notSent);
  return true;
};

describe('Abort names the payment it cancels (session)', () => {
  let sessions: TerminalSession[] = [];
  afterEach(async () => {
    for (const s of sessions) await s.close();
    sessions = [];
  });
  function start(slowCardMs = 3_000) {
    const terminal = new SimulatedTerminal({ cardDelayMs: 20, slowCardMs });
    const session = new TerminalSession({
      transport: new SimulatorTransport({ terminal }),
      pairingCode: PIN,
      clientDeviceSN: 'TEST-ECR',
      commandTimeoutMs: 1_000,
      paymentTimeoutMs: 5_000,
      statusPollIntervalMs: 30,
      resolveTimeoutMs: 2_000,
    });
    sessions.push(session);
    return { terminal, session };
  }
  const sent = (terminal: SimulatedTerminal, action: string, referenceID?: string) =>
    terminal.received.filter((r) => r.action === action && (referenceID === undefined || r.referenceID === referenceID)).length;

  it('a sale queued behind another is taken out: E_ABORTED, notSent, never sent; the running sale goes on untouched', async () => {
    const { session, terminal } = start(400);
    await session.open();
    const running = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'OTHER-1' });
    await until('the other sale at the terminal', () => terminal.transactions.has('OTHER-1'), 5_000);
    const queued = session.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'KIOSK-1' });
    const queuedFails = assert.rejects(queued, (err: unknown) => {
      code('E_ABORTED', true)(err);
      assert.equal((err as { referenceID?: string }).referenceID, 'KIOSK-1');
      return true;
    });
    const abort = await session.request('Abort', { referenceID: 'KIOSK-1' });
    assert.equal(abort.result, 'Success');
    assert.equal(abort.takenOutOfQueue, true);
    assert.equal(abort.referenceID, 'KIOSK-1');
    await queuedFails;
    // The other flow's sale was not aborted: it is approved, and no Abort reached the terminal.
    const other = await running;
    assert.equal(other.result, 'Success');
    assert.equal(other.abortRequested, undefined);
    assert.equal(sent(terminal, 'Abort'), 0);
    // Nothing more goes out: the aborted sale never reaches the terminal, now or later.
    await session.request('DeviceInfo');
    assert.equal(sent(terminal, 'Sale', 'KIOSK-1'), 0);
    assert.equal(terminal.transactions.has('KIOSK-1'), false);
    // Never sent: its reference may be used again.
    const again = await session.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'KIOSK-1' });
    assert.equal(again.result, 'Success');
  });

  it('the running sale named is aborted at the terminal: declined with reason aborted, never declined', async () => {
    const { session, terminal } = start();
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'RUN-1' });
    await until('the sale at the terminal', () => terminal.transactions.has('RUN-1'), 5_000);
    const abort = await session.request('Abort', { referenceID: 'RUN-1' });
    assert.equal(abort.result, 'Success');
    assert.equal(abort.referenceID, 'RUN-1');
    assert.equal(abort.takenOutOfQueue, undefined);
    const out = await sale;
    assert.equal(out.result, 'Failed');
    assert.equal(out.verdict, 'declined');
    assert.equal(out.reason, 'aborted');
    assert.equal(out.abortRequested, true);
    assert.equal(sent(terminal, 'Abort'), 1);
  });

  it('an Abort naming a payment neither queued nor running (settled, unknown) answers E_NOT_FOUND, sends nothing and cancels nothing', async () => {
    const { session, terminal } = start(400);
    await session.open();
    const done = await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'DONE-1' });
    assert.equal(done.result, 'Success');
    const running = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'RUN-2' });
    await until('the sale at the terminal', () => terminal.transactions.has('RUN-2'), 5_000);
    const queued = session.request('Sale', { amount: '3.00', currency: 'HKD', referenceID: 'Q-2' });
    for (const named of ['DONE-1', 'NOBODY']) {
      await assert.rejects(session.request('Abort', { referenceID: named }), (err: unknown) => {
        code('E_NOT_FOUND', true)(err);
        assert.equal((err as { referenceID?: string }).referenceID, named);
        return true;
      });
    }
    assert.equal((await running).reason, 'approved');
    assert.equal((await queued).reason, 'approved');
    assert.equal(sent(terminal, 'Abort'), 0);
  });

  it("an Abort naming another terminal's payment never cancels this terminal's running one", async () => {
    const a = start();
    const b = start();
    await a.session.open();
    await b.session.open();
    const sale = a.session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'ON-A' });
    await until('the sale at terminal A', () => a.terminal.transactions.has('ON-A'), 5_000);
    await assert.rejects(b.session.request('Abort', { referenceID: 'ON-A' }), code('E_NOT_FOUND', true));
    assert.equal(sent(b.terminal, 'Abort'), 0);
    assert.equal(sent(a.terminal, 'Abort'), 0);
    // Cancel it where it runs (a short wait for the card is not the point here).
    await a.session.request('Abort', { referenceID: 'ON-A' });
    assert.equal((await sale).reason, 'aborted');
  });

  it('without a reference the Abort keeps its meaning: the payment running now', async () => {
    const { session, terminal } = start();
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD' });
    await until('the sale at the terminal', () => terminal.transactions.size === 1, 5_000);
    const abort = await session.request('Abort');
    assert.equal(abort.result, 'Success');
    const out = await sale;
    assert.equal(out.reason, 'aborted');
    assert.equal(sent(terminal, 'Abort'), 1);
  });

  it('a bad reference is refused naming the field, and nothing is sent', async () => {
    const { session, terminal } = start();
    await session.open();
    const before = terminal.received.length;
    await assert.rejects(session.request('Abort', { referenceID: 'has space' } as never), (err: unknown) => err instanceof ValidationError && err.field === 'referenceID');
    await assert.rejects(session.request('Abort', { referenceID: 7 } as never), (err: unknown) => err instanceof ValidationError && err.field === 'referenceID');
    assert.equal(terminal.received.length, before);
  });
});

describe('the outcome of an aborted payment: reason aborted', () => {
  const asked = { action: 'Sale' as const, referenceID: 'R1', customerOrderID: 'R1', amount: '10.00', currency: 'HKD' };
  it("the terminal's answer to an aborted sale (Failed, ABORTED) is declined with reason aborted", () => {
    assert.deepEqual(decideAnswer(asked, { action: 'Sale', body: { status: 'Failed', errorCode: 'ABORTED', errorMessage: 'Transaction aborted by the ECR' } }), { verdict: 'declined', reason: 'aborted' });
    assert.deepEqual(decideAnswer(asked, { action: 'Sale', body: { status: 'Failed', errorCode: 'C1', errorMessage: 'Cancelled by user' } }), { verdict: 'declined', reason: 'aborted' });
    assert.deepEqual(decideAnswer(asked, { action: 'Sale', body: { status: 'Failed', errorCode: '05', errorMessage: 'Declined by issuer' } }), { verdict: 'declined', reason: 'declined' });
  });
  it('a lookup of an aborted sale says aborted too', () => {
    const body = { status: 'Success', transactionStatus: 'Failed', customerOrderID: 'R1', amount: '10.00', currency: 'HKD', errorCode: 'ABORTED', errorMessage: 'Transaction aborted by the ECR' };
    assert.deepEqual(decideLookup(asked, { action: 'TransactionStatus', body }), { verdict: 'declined', reason: 'aborted' });
    assert.deepEqual(decideLookup(asked, { action: 'TransactionStatus', body: { ...body, errorCode: '05', errorMessage: 'Declined by issuer' } }), { verdict: 'declined', reason: 'declined' });
  });
});
