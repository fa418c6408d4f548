import { strict as assert } from 'node:assert';
import { BusyError, SecurityError, TimeoutError, ValidationError, WonderCipher } from '../lib';
import { PendingError, TerminalSession } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { ScriptedTransport } from './helpers/scripted-transport';
import { until } from './helpers/wait';

const PIN = '260880';

function setup(sim: ConstructorParameters<typeof SimulatedTerminal>[0] = {}, session: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  const terminal = new SimulatedTerminal({ cardDelayMs: 20, pendingMs: 150, ...sim });
  const transport = new SimulatorTransport({ terminal });
  const s = new TerminalSession({
    transport,
    pairingCode: PIN,
    clientDeviceSN: 'TEST-ECR',
    commandTimeoutMs: 500,
    paymentTimeoutMs: 500,
    statusPollIntervalMs: 30,
    resolveTimeoutMs: 2_000,
    ...session,
  });
  return { terminal, transport, session: s };
}



describe('terminal session', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
  });
  function start(...args: Parameters<typeof setup>) {
    const env = setup(...args);
    cleanup.push(() => env.session.close());
    return env;
  }

  it('takes a sale, generating and handing back the referenceID', async () => {
    const { session, terminal } = start();
    await session.open();
    const out = await session.request('Sale', { amount: '10.20', currency: 'HKD' });
    assert.equal(out.result, 'Success');
    assert.match(out.referenceID!, /^[0-9a-f-]{36}$/);
    assert.equal(terminal.transactions.get(out.referenceID!)!.state, 'Success');
    assert.equal(out.header.responseID, out.requestID);
  });

  it('reports a decline as Failed from the terminal answer', async () => {
    const { session } = start();
    await session.open();
    const out = await session.request('Sale', { amount: SIMULATOR_AMOUNTS.decline, currency: 'HKD' });
    assert.equal(out.result, 'Failed');
    assert.equal(out.resolvedBy, undefined);
  });

  it('settles a Pending sale with TransactionStatus on the same referenceID, one Sale on the wire', async () => {
    const { session, terminal } = start();
    await session.open();
    const out = await session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'pend-1' });
    assert.equal(out.result, 'Success');
    assert.equal(out.resolvedBy, 'TransactionStatus');
    assert.ok(out.statusQueries >= 1);
    assert.equal(terminal.count('Sale'), 1);
    assert.equal(terminal.count('TransactionStatus', 'pend-1'), out.statusQueries);
  });

  it('times out a sale with no answer, then asks TransactionStatus with the same referenceID; one Sale sent', async () => {
    const { session, terminal } = start({}, { paymentTimeoutMs: 150 });
    await session.open();
    const out = await session.request('Sale', { amount: SIMULATOR_AMOUNTS.noAnswer, currency: 'HKD', referenceID: 'lost-1' });
    assert.equal(out.result, 'Success');
    assert.equal(out.resolvedBy, 'TransactionStatus');
    assert.equal(terminal.count('Sale'), 1);
    assert.equal(terminal.count('Sale', 'lost-1'), 1);
    assert.ok(terminal.count('TransactionStatus', 'lost-1') >= 1);
  });

  it('gives up with PendingError (E_PENDING) when the outcome stays pending past the deadline', async () => {
    const { session, terminal } = start({ pendingMs: 10_000 }, { resolveTimeoutMs: 200 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'stuck' }), (err: unknown) => {
      assert.ok(err instanceof PendingError);
      assert.equal(err.code, 'E_PENDING');
      assert.equal(err.referenceID, 'stuck');
      return true;
    });
    assert.equal(terminal.count('Sale'), 1);
  });

  it('refuses bad input before anything is sent, naming the field', async () => {
    const { session, terminal } = start();
    await session.open();
    for (const [params, field] of [
      [{ amount: '10.205', currency: 'HKD' }, 'amount'],
      [{ amount: '-1', currency: 'HKD' }, 'amount'],
      [{ amount: '10', currency: 'HK' }, 'currency'],
    ] as const) {
      await assert.rejects(session.request('Sale', params), (err: unknown) => err instanceof ValidationError && err.field === field);
    }
    await assert.rejects(session.request('Refund', { amount: '1', currency: 'HKD' } as never), (err: unknown) => err instanceof ValidationError && err.field === 'orgReferenceID');
    await assert.rejects(session.request('TransactionStatus', {} as never), (err: unknown) => err instanceof ValidationError && err.field === 'targetReferenceID');
    assert.equal(terminal.received.length, 0);
  });

  it('answers queued requests one at a time, in order', async () => {
    const { session, terminal, transport } = start();
    await session.open();
    let inFlight = 0;
    let most = 0;
    const send = transport.send.bind(transport);
    transport.send = async (text, options) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await send(text, options);
    };
    session.on('activity', (a: { kind: string }) => {
      if (a.kind === 'done' || a.kind === 'failed') inFlight--;
    });
    const refs = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    const results = await Promise.all(refs.map((referenceID) => session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID })));
    assert.deepEqual(results.map((r) => r.referenceID), refs);
    assert.deepEqual(terminal.received.map((r) => r.referenceID), refs);
    assert.equal(most, 1);
  });

  it('refuses with E_QUEUE_FULL when the queue is full', async () => {
    const { session } = start({}, { maxQueue: 2 });
    await session.open();
    const first = [0, 1, 2].map((i) => session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: `q${i}` }));
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD' }), (err: unknown) => err instanceof BusyError && err.code === 'E_QUEUE_FULL');
    assert.equal((await Promise.all(first)).length, 3);
  });

  it('refuses a second request as busy under busyPolicy reject', async () => {
    const { session } = start({}, { busyPolicy: 'reject' });
    await session.open();
    const first = session.request('Sale', { amount: '1.00', currency: 'HKD' });
    await assert.rejects(session.request('DeviceInfo'), (err: unknown) => err instanceof BusyError && err.code === 'E_BUSY');
    assert.equal((await first).result, 'Success');
  });

  it('releases a queued request whose wait passes its time-out, and the queue goes on', async () => {
    const { session } = start({ slowCardMs: 400 }, { paymentTimeoutMs: 2_000 });
    await session.open();
    const slow = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD' });
    const queued = session.request('DeviceInfo', undefined, { timeoutMs: 100 });
    await assert.rejects(queued, (err: unknown) => err instanceof TimeoutError && /queue/.test(err.message));
    assert.equal((await slow).result, 'Success');
    assert.equal((await session.request('DeviceInfo')).body.deviceStatus, 'Free');
  });

  it('sends Abort beside the sale it aborts; the sale settles from its own answer', async () => {
    const { session, terminal } = start({ slowCardMs: 2_000 }, { paymentTimeoutMs: 3_000 });
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD' });
    await until('the terminal waiting for the card', () => terminal.transactions.size === 1, 5_000);
    const abort = await session.request('Abort');
    assert.equal(abort.result, 'Success');
    const out = await sale;
    assert.equal(out.result, 'Failed');
    assert.equal((out.body as { errorCode: string }).errorCode, 'ABORTED');
  });

  it('voids and refunds against earlier sales; a reference the terminal calls used is settled by its status', async () => {
    const { session } = start();
    await session.open();
    const sale = await session.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S1' });
    const refund = await session.request('Refund', { amount: '5.00', currency: 'HKD', orgReferenceID: 'S1' });
    assert.equal(refund.result, 'Success');
    // The terminal refuses the reference as used; its status is the outcome: the earlier approval.
    const dup = await session.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S1' });
    assert.equal(dup.result, 'Success');
    assert.equal(dup.duplicate, true);
    assert.equal(dup.resolvedBy, 'TransactionStatus');
    const sale2 = await session.request('Sale', { amount: '3.00', currency: 'HKD' });
    const voided = await session.request('Void', { orgReferenceID: sale2.referenceID! });
    assert.equal(voided.result, 'Success');
    const status = await session.request('TransactionStatus', { targetReferenceID: sale2.referenceID! });
    assert.equal(status.body.transactionStatus, 'Voided');
    assert.equal(sale.result, 'Success');
  });

  it('reports a wrong pairing code as a security error, not a declined payment', async () => {
    const terminal = new SimulatedTerminal({ pairingCode: '111111', cardDelayMs: 5 });
    const transport = new SimulatorTransport({ terminal });
    const session = new TerminalSession({ transport, pairingCode: PIN, clientDeviceSN: 'T', commandTimeoutMs: 500 });
    cleanup.push(() => session.close());
    await session.open();
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD' }), (err: unknown) => {
      assert.ok(err instanceof SecurityError);
      assert.doesNotMatch(String((err as Error).message), /260880|111111/);
      return true;
    });
    assert.equal(terminal.transactions.size, 0);
  });

  it('drops a late response after its time-out and never hands it to the next request', async () => {
    const cipher = new WonderCipher(PIN);
    let lateID = '';
    const transport = new ScriptedTransport(cipher, (t, requestID, action) => {
      if (lateID === '') {
        lateID = requestID; // no answer now: it comes late
        return;
      }
      // The late answer arrives first, then the real one, 10 ms on (the terminal's own timing, not a wait).
      setTimeout(() => {
        t.answer(lateID, 'DeviceInfo', { deviceStatus: 'Busy', networkStatus: 'Connected', softwareVersion: 'LATE', businessID: 'b' });
        t.answer(requestID, action, { deviceStatus: 'Free', networkStatus: 'Connected', softwareVersion: 'RIGHT', businessID: 'b' });
      }, 10);
    });
    const session = new TerminalSession({ transport, pairingCode: PIN, clientDeviceSN: 'T', commandTimeoutMs: 100 });
    cleanup.push(() => session.close());
    const strays: unknown[] = [];
    session.on('stray', (s) => strays.push(s));
    await session.open();
    await assert.rejects(session.request('DeviceInfo'), TimeoutError);
    const second = await session.request('DeviceInfo');
    assert.equal(second.body.softwareVersion, 'RIGHT');
    assert.equal(strays.length, 1);
    assert.equal(transport.sent.length, 2);
  });

  it('rejects queued requests on close without sending them', async () => {
    const { session, terminal } = setup({ slowCardMs: 1_000 });
    await session.open();
    const first = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD' });
    const second = session.request('Sale', { amount: '1.00', currency: 'HKD' });
    await until('the first sale at the terminal', () => terminal.count('Sale') === 1, 5_000);
    await session.close();
    await assert.rejects(second, (err: unknown) => (err as { code?: string }).code === 'E_CLOSED');
    await assert.rejects(first, (err: unknown) => (err as { code?: string }).code === 'E_CLOSED' || err instanceof PendingError);
    assert.equal(terminal.count('Sale'), 1);
  });
});
