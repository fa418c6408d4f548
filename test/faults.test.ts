import { strict as assert } from 'node:assert';
import { SerialPort } from 'serialport';
import { FrameDecoder } from '../lib/protocol';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { TerminalSession } from '../lib/session';
import { SerialTransport } from '../lib/transport/serial';
import { allNodes, helper, messages, nextMessage, type Msg, useRuntime } from './helpers/node-red';
import { fdsOn } from './helpers/fds';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

/**
 * The fault suite: each test a named fault a kiosk meets, over a real
 * pseudo-terminal (socat) with the simulated terminal on the other end and the
 * real Node-RED runtime on this one.
 */
describe('fault suite (real pty, Node-RED runtime)', function () {
  this.timeout(60_000);
  let pty: PtyPair;
  let server: SerialServer | undefined;
  let terminal: SimulatedTerminal;

  useRuntime();
  beforeEach(async () => {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20, slowCardMs: 600 });
    server = await serveSerial(terminal, { path: pty.b });
  });
  afterEach(async () => {
    terminal.stop();
    await server?.close();
    await pty.stop();
  });

  function flow(extra: Record<string, unknown> = {}) {
    return [
      { id: 'f1', type: 'tab', label: 'faults' },
      { id: 'tty', type: 'wonder-terminal', name: 'kiosk terminal', transport: 'serial', serialPort: pty.a, timeout: '5', resolveTimeout: '8', pollInterval: '0.1', ...extra },
      { id: 'sale', type: 'wonder-sale', z: 'f1', terminal: 'tty', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
      { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f1' },
    ];
  }

  async function load(extra: Record<string, unknown> = {}) {
    await helper.load(allNodes, flow(extra), { tty: { pairingCode: '260880' } });
    await until('connected', () => state() === 'connected', 8_000);
    // The terminal's identity check (a DeviceInfo after each connect) answered: a test that takes the terminal
    // away next would otherwise lose it too, and its sale would first wait out the check (5 s).
    await until('the identity check answered', () => device().softwareVersion !== undefined, 8_000);
  }

  function device(): { softwareVersion?: string } {
    return (helper.getNode('tty') as unknown as { wonder: { device: { softwareVersion?: string } } }).wonder.device;
  }

  function state(): string {
    return (helper.getNode('tty') as unknown as { wonder: { state: string } }).wonder.state;
  }

  /** Records the sale node's status texts. */
  function statuses(): Array<{ fill?: string; text?: string }> {
    const node = helper.getNode('sale') as unknown as { status(s: unknown): void };
    const seen: Array<{ fill?: string; text?: string }> = [];
    const original = node.status.bind(node);
    node.status = (s: unknown) => {
      seen.push(s as { fill?: string; text?: string });
      original(s);
    };
    return seen;
  }

  function sale(payload: Record<string, unknown>) {
    helper.getNode('sale').receive({ payload: { currency: 'HKD', ...payload } });
  }

  async function unplug() {
    await server?.close();
    server = undefined;
    await pty.stop('SIGKILL');
  }

  async function plugBackIn() {
    pty = await startPtyPair({ a: pty.a, b: pty.b });
    server = await serveSerial(terminal, { path: pty.b });
  }

  it('unplug while idle: status turns red, reconnects with no redeploy, the next sale succeeds', async () => {
    await load();
    const seen = statuses();
    await unplug();
    await until('a red unreachable status', () => seen.some((s) => s.fill === 'red' && /disconnected|unreachable|cause\./.test(s.text ?? '')), 8_000);
    await plugBackIn();
    await until('reconnected', () => state() === 'connected', 8_000);
    assert.equal(seen.at(-1)!.fill, 'green');
    const out = nextMessage('out');
    sale({ amount: '4.00' });
    assert.equal((await out).wonder.result, 'Success');
  });

  it('unplug mid-sale: status turns red, reconnects, and the open sale is settled by TransactionStatus', async () => {
    await load();
    const seen = statuses();
    const out = nextMessage('out', 20_000);
    sale({ amount: SIMULATOR_AMOUNTS.slowCardholder, referenceID: 'unplug-mid-sale' });
    await until('the sale on the wire', () => terminal.count('Sale', 'unplug-mid-sale') === 1, 8_000);
    await unplug();
    await until('a red status', () => seen.some((s) => s.fill === 'red'), 8_000);
    // The card is read meanwhile: the terminal approves while the cable is out.
    await until('the card read while unplugged', () => terminal.transactions.get('unplug-mid-sale')?.state === 'Success', 8_000);
    await plugBackIn();
    const msg = await out;
    assert.equal(msg.wonder.result, 'Success');
    assert.equal(msg.wonder.resolvedBy, 'TransactionStatus');
    assert.equal(terminal.count('Sale', 'unplug-mid-sale'), 1);
    assert.equal(terminal.transactions.get('unplug-mid-sale')!.state, 'Success');
  });

  it('terminal reboot: a sale lost in the reboot is never guessed: "not found" leaves it unknown (E_PENDING), nothing is resent, the next payment goes on', async () => {
    await load({ resolveTimeout: '1.5' });
    // The terminal goes down (its program restarts) while our port stays open.
    await server!.close();
    server = undefined;
    // While it restarts, its port takes the sale and drops it (read here until the whole frame is in).
    const rebooting = new SerialPort({ path: pty.b, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => rebooting.open((e) => (e ? reject(e) : resolve())));
    const lost = new FrameDecoder();
    let lostFrames = 0;
    rebooting.on('data', (chunk: Buffer) => (lostFrames += lost.push(chunk).length));
    const caught = nextMessage('caught', 20_000);
    sale({ amount: '6.00', referenceID: 'during-reboot' });
    await until('the sale lost in the reboot', () => lostFrames === 1, 8_000);
    await new Promise<void>((resolve) => rebooting.close(() => resolve()));
    const rebooted = new SimulatedTerminal({ cardDelayMs: 20 });
    server = await serveSerial(rebooted, { path: pty.b });
    const err = await caught;
    // The terminal's books do not know it: that is not evidence of a decline (it may still have been reading the card).
    assert.equal(err.wonder.code, 'E_PENDING');
    assert.equal(err.wonder.referenceID, 'during-reboot');
    assert.equal(err.wonder.notSent, false);
    assert.equal(rebooted.count('Sale'), 0);
    assert.ok(rebooted.count('TransactionStatus') >= 1);
    // Past its card window the terminal is no longer working on it: the next payment goes on (after one more
    // lookup), the unknown one stays open in the journal with a warning, and it is never resent.
    const next = nextMessage('out', 20_000);
    sale({ amount: '6.00', referenceID: 'after-reboot' });
    assert.equal((await next).wonder.result, 'Success');
    assert.equal(rebooted.count('Sale', 'during-reboot'), 0);
    assert.equal(rebooted.count('Sale'), 1);
    assert.ok(JSON.stringify(helper.log().args).includes('log.unresolved') || JSON.stringify(helper.log().args).includes('during-reboot is still unknown'));
    terminal = rebooted;
  });

  it('Pending then silence: E_PENDING reaches the Catch node; the sale is settled before the next one and emitted as recovered', async () => {
    await load({ resolveTimeout: '0.5' });
    terminal.silent.add('TransactionStatus');
    const caught = nextMessage('caught', 20_000);
    sale({ amount: SIMULATOR_AMOUNTS.pendingThenApprove, referenceID: 'silent-1' });
    const err = await caught;
    assert.equal(err.wonder.code, 'E_PENDING');
    assert.equal(err.wonder.referenceID, 'silent-1');
    // The terminal answers again; the sale was approved meanwhile.
    terminal.silent.delete('TransactionStatus');
    terminal.transactions.get('silent-1')!.state = 'Success';
    const outs = messages('out', 2, 20_000);
    sale({ amount: '1.00', referenceID: 'next-1' });
    const [first, second] = await outs;
    assert.equal(first!.wonder.referenceID, 'silent-1');
    assert.equal(first!.wonder.recovered, true);
    assert.equal(first!.wonder.result, 'Success');
    assert.equal(second!.wonder.referenceID, 'next-1');
    assert.equal(terminal.count('Sale', 'silent-1'), 1);
  });

  it('the approval frame lost: settled by TransactionStatus, one Sale on the wire', async () => {
    await load({ timeout: '0.5' });
    const out = nextMessage('out', 20_000);
    sale({ amount: SIMULATOR_AMOUNTS.noAnswer, referenceID: 'lost-approval' });
    const msg = await out;
    assert.equal(msg.wonder.result, 'Success');
    assert.equal(msg.wonder.resolvedBy, 'TransactionStatus');
    assert.equal(terminal.count('Sale', 'lost-approval'), 1);
  });

  it('the same referenceID twice (a broker redelivers): one Sale on the wire, both answered with its outcome', async () => {
    await load();
    const outs = messages('out', 2);
    sale({ amount: '8.00', referenceID: 'order-42' });
    sale({ amount: '8.00', referenceID: 'order-42' });
    const [a, b] = await outs;
    assert.equal(a!.wonder.result, 'Success');
    assert.equal(b!.wonder.result, 'Success');
    assert.equal(b!.wonder.duplicate, true);
    assert.equal(terminal.count('Sale', 'order-42'), 1);
    const again = nextMessage('out');
    sale({ amount: '8.00', referenceID: 'order-42' });
    assert.equal((await again).wonder.duplicate, true);
    assert.equal(terminal.count('Sale', 'order-42'), 1);
  });

  it('100 messages at once to one terminal: all answered, one at a time, in order', async () => {
    await load({ timeout: '60' });
    const outs = messages('out', 100, 50_000);
    for (let i = 0; i < 100; i++) sale({ amount: '1.00', referenceID: `burst-${i}` });
    const got: Msg[] = await outs;
    const order = got.map((m) => m.wonder.referenceID);
    assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => `burst-${i}`));
    // The simulator refuses a sale while another waits for a card: all Success means one at a time.
    assert.ok(got.every((m) => m.wonder.result === 'Success'));
    assert.deepEqual(terminal.received.filter((r) => r.action === 'Sale').map((r) => r.referenceID), order);
  });

  it('50 redeploys in a row with a sale in flight: each close is quick, the port is released, nothing is sent twice', async () => {
    const openOnDevice = () => fdsOn(pty.a);
    const baseline = openOnDevice();
    let slowest = 0;
    for (let i = 0; i < 50; i++) {
      await load();
      // The terminal approves and its answer never comes: the sale stays in flight (its time-out is 5 s)
      // until the redeploy closes it, however slow the machine, and the next deploy settles it at its first
      // TransactionStatus instead of waiting out a slow cardholder.
      sale({ amount: SIMULATOR_AMOUNTS.noAnswer, referenceID: `redeploy-${i}` });
      await until(`sale ${i} on the wire`, () => terminal.count('Sale', `redeploy-${i}`) === 1, 8_000);
      const started = Date.now();
      await helper.unload();
      slowest = Math.max(slowest, Date.now() - started);
      assert.equal(openOnDevice(), baseline, `deploy ${i}: the port is still open after close`);
    }
    assert.ok(slowest < 15_000, `a close took ${slowest} ms, past Node-RED's close time-out`);
    assert.ok(!/Cannot lock port/i.test(JSON.stringify(helper.log().args)));
    // Every sale went out once; the last deploy settles what the redeploys left open.
    for (let i = 0; i < 50; i++) assert.equal(terminal.count('Sale', `redeploy-${i}`), 1);
    await helper.load(allNodes, flow(), { tty: { pairingCode: '260880' } });
    const [last] = await messages('out', 1, 20_000);
    assert.equal(last!.wonder.recovered, true);
  });
});

describe('fault suite (real pty, session level)', function () {
  this.timeout(20_000);

  it('a late response after its time-out is dropped, never handed to the next request', async () => {
    const pty = await startPtyPair();
    const terminal = new SimulatedTerminal({ delays: { DeviceInfo: 400 } });
    const server = await serveSerial(terminal, { path: pty.b });
    const session = new TerminalSession({ transport: new SerialTransport({ path: pty.a }), pairingCode: '260880', clientDeviceSN: 'LATE', commandTimeoutMs: 150 });
    const strays: Array<{ responseID?: string }> = [];
    session.on('stray', (s) => strays.push(s));
    try {
      await session.open();
      let firstID = '';
      await assert.rejects(
        session.request('DeviceInfo', undefined, { onQueued: (i) => (firstID = i.requestID) }),
        (e: unknown) => (e as { code?: string }).code === 'E_TIMEOUT',
      );
      terminal.delays.DeviceInfo = 600;
      terminal.delays.Abort = 0;
      // The next request is in flight when the late answer to the first arrives.
      const second = await session.request('DeviceInfo', undefined, { timeoutMs: 2_000 });
      assert.equal(second.header.responseID, second.requestID);
      assert.notEqual(second.requestID, firstID);
      assert.deepEqual(strays.map((s) => s.responseID), [firstID]);
    } finally {
      await session.close();
      terminal.stop();
      await server.close();
      await pty.stop();
    }
  });
});
