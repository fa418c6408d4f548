import { strict as assert } from 'node:assert';
import { TerminalSession, PendingError } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { SerialTransport } from '../lib/transport/serial';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

/** ECR session ↔ real pty pair (socat) ↔ simulated terminal. */
describe('session and simulator over a real pseudo-terminal', function () {
  this.timeout(20_000);
  let pty: PtyPair;
  let server: SerialServer;
  let terminal: SimulatedTerminal;
  let session: TerminalSession;

  async function start(faults = {}, sessionOptions: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20, pendingMs: 200 });
    server = await serveSerial(terminal, { path: pty.b, faults });
    session = new TerminalSession({
      transport: new SerialTransport({ path: pty.a, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } }),
      pairingCode: '260880',
      clientDeviceSN: 'PTY-ECR',
      paymentTimeoutMs: 1_500,
      commandTimeoutMs: 1_000,
      statusPollIntervalMs: 50,
      resolveTimeoutMs: 5_000,
      ...sessionOptions,
    });
    await session.open();
  }

  afterEach(async () => {
    await session?.close();
    terminal?.stop();
    await server?.close();
    await pty?.stop();
  });

  it('takes a sale, refund, void and status over the wire', async () => {
    await start();
    const sale = await session.request('Sale', { amount: '10.20', currency: 'HKD' });
    assert.equal(sale.result, 'Success');
    const refund = await session.request('Refund', { amount: '1.20', currency: 'HKD', orgReferenceID: sale.referenceID! });
    assert.equal(refund.result, 'Success');
    const sale2 = await session.request('Sale', { amount: '2.00', currency: 'HKD' });
    assert.equal((await session.request('Void', { orgReferenceID: sale2.referenceID! })).result, 'Success');
    const status = await session.request('TransactionStatus', { targetReferenceID: sale2.referenceID! });
    assert.equal(status.body.transactionStatus, 'Voided');
    assert.equal((await session.request('DeviceInfo')).body.deviceStatus, 'Free');
  });

  it('gets through noise before frames, one-byte pieces and corrupt frames', async () => {
    await start({ noise: 1, drip: 1, corrupt: 1 });
    const strays: unknown[] = [];
    session.on('stray', (s) => strays.push(s));
    for (let i = 0; i < 3; i++) {
      const sale = await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: `noisy-${i}` });
      assert.equal(sale.result, 'Success');
      assert.equal(sale.resolvedBy, undefined);
    }
    assert.equal(terminal.count('Sale'), 3);
    assert.equal(strays.length, 0);
  });

  it('a sale with no answer times out, then TransactionStatus on the same referenceID settles it; one Sale on the wire', async () => {
    await start({}, { paymentTimeoutMs: 300 });
    const sale = await session.request('Sale', { amount: SIMULATOR_AMOUNTS.noAnswer, currency: 'HKD', referenceID: 'no-answer-1' });
    assert.equal(sale.result, 'Success');
    assert.equal(sale.resolvedBy, 'TransactionStatus');
    assert.equal(terminal.count('Sale'), 1);
    assert.ok(terminal.count('TransactionStatus', 'no-answer-1') >= 1);
  });

  it('the port vanishing mid-request gives a clear error, reconnects by itself, and the next request succeeds', async () => {
    await start({}, { resolveTimeoutMs: 600 });
    const states: string[] = [];
    session.on('state', (s: string) => states.push(s));
    const slow = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'cut-1' });
    await until('the sale at the terminal before the cut', () => terminal.count('Sale', 'cut-1') > 0, 5_000);
    assert.equal(terminal.count('Sale', 'cut-1'), 1, 'the sale reached the terminal once');
    await server.close();
    await pty.stop('SIGKILL');
    await assert.rejects(slow, (err: unknown) => err instanceof PendingError && err.referenceID === 'cut-1');
    assert.ok(states.includes('reconnecting'), states.join(','));
    // The device comes back at the same path.
    pty = await startPtyPair({ a: pty.a, b: pty.b });
    const fresh = new SimulatedTerminal({ cardDelayMs: 20 });
    server = await serveSerial(fresh, { path: pty.b });
    await until('the session connected again', () => session.state === 'connected', { within: 5_000, detail: () => `state ${session.state}` });
    const after = await session.request('Sale', { amount: '3.00', currency: 'HKD' });
    assert.equal(after.result, 'Success');
  });

  it('a request while the port is gone fails at once with E_CLOSED and sends nothing', async () => {
    await start();
    await server.close();
    await pty.stop('SIGKILL');
    await until('the session to see the port gone', () => session.state !== 'connected', 3_000);
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD' }), (err: unknown) => (err as { code?: string }).code === 'E_CLOSED');
    assert.equal(terminal.count('Sale'), 0);
  });
});
