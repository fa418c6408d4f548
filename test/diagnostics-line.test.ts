import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { catalog, withCatalog } from './helpers/catalog';
import { helper, lastText, nextMessage, nodes, statuses, useRuntime } from './helpers/node-red';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { encodeFrame, type Envelope } from '../lib/protocol';
import { SimulatedTerminal, SIMULATOR_AMOUNTS } from '../lib/simulator/terminal';
import { serveLan, serveSerial, type LanServer, type SerialServer } from '../lib/simulator/servers';
import { SerialTransport } from '../lib/transport/serial';
import type { Terminal } from '../lib/terminal';
import { until } from './helpers/wait';

/** The nodes with the real en-US texts (log lines and error texts read as a technician reads them). */
const { catch: catchNode, ...ours } = nodes;
const allNodes = [...withCatalog(Object.values(ours), catalog('en-US')), catchNode];
const en = catalog('en-US');
const NS = 'node-red-contrib-wonder-ecr/wonder-terminal:';
/** Within this long of the fault, the status names it (the 10 s). */
const SHOWN_WITHIN_MS = 10_000;

const sinks = [
  { id: 'f1', type: 'tab', label: 'diagnostics' },
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
];
const infoNode = { id: 'i', type: 'wonder-device-info', z: 'f1', terminal: 'T', wires: [['out']] };
const saleNode = { id: 's', type: 'wonder-sale', z: 'f1', terminal: 'T', wires: [['out']] };

const handleOf = () => (helper.getNode('T') as unknown as { wonder: Terminal }).wonder;
/** The runtime's warnings, as text. */
const warnings = () => (helper.log().args as Array<Array<{ level?: number; msg?: unknown }>>).filter(([e]) => e?.level === 30).map(([e]) => String(e!.msg));


/**
 * The bytes a receiver set to another baud rate reads from `bytes` sent
 * 8N1: the line's bits sampled at `ratio` times the sender's bit time.
 */
function atWrongBaud(bytes: Uint8Array, ratio: number): Buffer {
  const bits: number[] = [];
  for (const b of bytes) {
    bits.push(0);
    for (let i = 0; i < 8; i++) bits.push((b >> i) & 1);
    bits.push(1);
  }
  const line = (t: number) => (t < bits.length ? bits[Math.floor(t)]! : 1);
  const out: number[] = [];
  for (let t = 0; t < bits.length; ) {
    if (line(t) === 1) {
      t += 0.25;
      continue;
    }
    let byte = 0;
    for (let i = 0; i < 8; i++) byte |= line(t + ratio * (1.5 + i)) << i;
    out.push(byte);
    t += ratio * 9.5;
  }
  return Buffer.from(out);
}

describe('diagnostics that name the cause (real runtime, ptys, loopback)', function () {
  this.timeout(60_000);
  useRuntime();
  let pty: PtyPair | undefined;
  let serial: SerialServer | undefined;
  let lan: LanServer | undefined;
  const sims: SimulatedTerminal[] = [];
  afterEach(async () => {
    await helper.unload();
    await serial?.close();
    await lan?.close();
    await pty?.stop();
    for (const s of sims.splice(0)) s.stop();
    pty = serial = lan = undefined;
  });
  const sim = (options: ConstructorParameters<typeof SimulatedTerminal>[0] = {}) => {
    const s = new SimulatedTerminal({ cardDelayMs: 20, ...options });
    sims.push(s);
    return s;
  };

  it('bytes at the wrong baud rate: "check baud/cable" within 10 s, one log line, and the failed request says so', async () => {
    pty = await startPtyPair();
    // The terminal's side: a real simulated terminal, its answers read at 9600 by a line set to 115200 (ratio 12).
    const terminal = sim();
    const peer = new SerialTransport({ path: pty.b });
    await peer.open();
    let firstGarbageAt = 0;
    peer.on('message', (env: Envelope) => {
      void terminal.handle(JSON.stringify(env)).then((answer) => {
        if (answer === null) return;
        firstGarbageAt ||= Date.now();
        return peer.writeRaw(atWrongBaud(encodeFrame(Buffer.from(answer)), 1 / 12)).catch(() => undefined);
      });
    });
    serial = { transport: peer, close: () => peer.close() };
    const T = { id: 'T', type: 'wonder-terminal', transport: 'serial', serialPort: pty.a, healthCheck: '5' };
    await helper.load(allNodes, [T, infoNode, ...sinks], { T: { pairingCode: '260880' } });
    await until('the first garbled answer', () => firstGarbageAt > 0, 15_000);
    await until('check baud/cable', () => lastText('i') === `${NS}status.cause.no-valid-frames`, SHOWN_WITHIN_MS);
    assert.ok(Date.now() - firstGarbageAt <= SHOWN_WITHIN_MS, `shown ${Date.now() - firstGarbageAt} ms after the fault`);
    assert.equal(statuses('i').at(-1)?.fill, 'red');
    const handle = handleOf();
    assert.equal(handle.diagnosis()?.code, 'no-valid-frames');
    assert.ok(handle.counters.noiseBytes > 0 && handle.counters.framesReceived === 0, JSON.stringify(handle.counters));
    // A request now fails, and its text names the cause.
    const caught = nextMessage('caught', 20_000);
    helper.getNode('i').receive({ payload: {} });
    const msg = await caught;
    assert.equal(msg.error.code, 'E_TIMEOUT');
    assert.match(msg.error.message, /check the baud rate and the cable/);
    // The node whose request failed shows the cause too (not a bare "error"), and msg.wonder names it.
    assert.equal(msg.wonder.diagnosis, 'no-valid-frames');
    assert.equal(lastText('i'), `${NS}status.cause.no-valid-frames`);
    // The log says it once, with the same words, however long it lasts.
    const said = warnings().filter((w) => w.includes(en(`${NS}diagnosis.no-valid-frames`)));
    assert.equal(said.length, 1, warnings().join('\n'));
    // The trace keeps the noise as bursts, beside the exchanges.
    const trace = handle.trace.list();
    assert.ok(trace.some((r) => r.result === 'noise' && r.bytes > 0));
    assert.ok(trace.some((r) => r.direction === 'out' && r.action === 'DeviceInfo'));
  });

  it('a terminal with another pairing code: "check pairing code", and the error text says so', async () => {
    pty = await startPtyPair();
    serial = await serveSerial(sim({ pairingCode: '123456' }), { path: pty.b });
    const T = { id: 'T', type: 'wonder-terminal', transport: 'serial', serialPort: pty.a, healthCheck: '5' };
    await helper.load(allNodes, [T, infoNode, ...sinks], { T: { pairingCode: '260880' } });
    await until('check pairing code', () => lastText('i') === `${NS}status.cause.undecryptable`, SHOWN_WITHIN_MS);
    const handle = handleOf();
    assert.equal(handle.diagnosis()?.code, 'undecryptable');
    assert.ok(handle.counters.undecryptable >= 1 && handle.counters.framesReceived >= 1, JSON.stringify(handle.counters));
    const caught = nextMessage('caught');
    helper.getNode('i').receive({ payload: {} });
    const msg = await caught;
    assert.equal(msg.error.code, 'E_SECURITY');
    assert.match(msg.error.message, /check the pairing code/);
    assert.equal(warnings().filter((w) => w.includes(en(`${NS}diagnosis.undecryptable`))).length, 1, warnings().join('\n'));
  });

  it('the serial port removed: "serial port gone" with the ports that are there, then back to ready', async () => {
    pty = await startPtyPair();
    serial = await serveSerial(sim(), { path: pty.b });
    const T = { id: 'T', type: 'wonder-terminal', transport: 'serial', serialPort: pty.a, healthCheck: '5' };
    await helper.load(allNodes, [T, infoNode, ...sinks], { T: { pairingCode: '260880' } });
    // The simulated terminal behind the pty marks its answers: ready reads "simulated" here.
    await until('ready', () => lastText('i') === `${NS}status.simulated` && handleOf().lastExchangeAt !== undefined, 15_000);
    const { a, b } = pty;
    await serial.close();
    const cut = Date.now();
    await pty.stop('SIGKILL');
    await until('serial port gone', () => lastText('i') === `${NS}status.cause.port-gone`, SHOWN_WITHIN_MS);
    assert.ok(Date.now() - cut <= SHOWN_WITHIN_MS);
    const handle = handleOf();
    await until('the ports listed', () => handle.diagnosis()?.ports !== undefined, 15_000);
    const d = handle.diagnosis()!;
    assert.equal(d.code, 'port-gone');
    assert.ok(!d.ports!.includes(a), 'the gone port is not listed');
    const line = warnings().find((w) => w.includes(en(`${NS}diagnosis.port-gone`)));
    assert.ok(line !== undefined, warnings().join('\n'));
    assert.ok(d.ports!.length === 0 ? line.includes(en(`${NS}diagnosis.noPorts`)) : d.ports!.every((p) => line.includes(p)), line);
    // The adapter comes back at the same path: the fault clears by itself.
    pty = await startPtyPair({ a, b });
    serial = await serveSerial(sim(), { path: pty.b });
    await until('ready again', () => lastText('i') === `${NS}status.simulated`, 20_000);
    assert.equal(handle.diagnosis(), undefined);
  });

  it('a LAN host that refuses: "refused connection", diagnosis host-refused, and the error text says so', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const T = { id: 'T', type: 'wonder-terminal', transport: 'lan', host: '127.0.0.1', port: String(port) };
    // 'j' idle beside it: the node that asked shows its own error, the others the terminal's state.
    await helper.load(allNodes, [T, infoNode, { ...infoNode, id: 'j' }, ...sinks], { T: { pairingCode: '260880' } });
    const caught = nextMessage('caught');
    const asked = Date.now();
    helper.getNode('i').receive({ payload: {} });
    const msg = await caught;
    await until('refused', () => lastText('j') === `${NS}status.cause.refused`, SHOWN_WITHIN_MS);
    assert.ok(Date.now() - asked <= SHOWN_WITHIN_MS);
    assert.equal(handleOf().diagnosis()?.code, 'host-refused');
    assert.equal(msg.error.code, 'E_TRANSPORT');
    assert.match(msg.error.message, /refuses the connection/);
    // One log line for the fault, with the transport's words (the host and port), not a second generic one.
    const said = warnings().filter((w) => w.includes(en(`${NS}diagnosis.host-refused`)));
    assert.equal(said.length, 1, warnings().join('\n'));
    assert.ok(said[0]!.includes(`127.0.0.1:${port}`), said[0]);
    assert.equal(warnings().filter((w) => w.includes(en(`${NS}log.unreachable`, { detail: '' }))).length, 0, warnings().join('\n'));
    assert.equal(handleOf().diagnosis()?.detail?.includes(`127.0.0.1:${port}`), true);
  });

  it('a LAN terminal with another pairing code: the failed request and the status say "check pairing code" at once', async () => {
    lan = await serveLan(sim({ pairingCode: '654321' }));
    const T = { id: 'T', type: 'wonder-terminal', transport: 'lan', host: '127.0.0.1', port: String(lan.port) };
    await helper.load(allNodes, [T, infoNode, { ...infoNode, id: 'j' }, ...sinks], { T: { pairingCode: '260880' } });
    const caught = nextMessage('caught');
    helper.getNode('i').receive({ payload: {} });
    const msg = await caught;
    assert.equal(msg.error.code, 'E_SECURITY');
    assert.match(msg.error.message, /check the pairing code/);
    assert.equal(lastText('j'), `${NS}status.cause.undecryptable`);
    // Every HTTP reply counts as received (the terminal's identity check may have asked too).
    const { undecryptable, framesReceived } = handleOf().counters;
    assert.ok(undecryptable >= 1);
    assert.equal(framesReceived, undecryptable);
  });

  it('a terminal that answers busy: "terminal busy" in yellow until it answers otherwise', async () => {
    lan = await serveLan(sim());
    const T = { id: 'T', type: 'wonder-terminal', transport: 'lan', host: '127.0.0.1', port: String(lan.port) };
    await helper.load(allNodes, [T, saleNode, infoNode, ...sinks], { T: { pairingCode: '260880' } });
    const refused = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: SIMULATOR_AMOUNTS.busy, currency: 'HKD' } });
    assert.equal((await refused).wonder.reason, 'terminal-busy');
    // Every idle node of the terminal shows it; the sale's own node shows its declined result.
    await until('terminal busy', () => lastText('i') === `${NS}status.cause.terminal-busy`, SHOWN_WITHIN_MS);
    assert.equal(statuses('i').at(-1)?.fill, 'yellow');
    assert.equal(lastText('s'), `${NS}status.failed`);
    assert.equal(handleOf().diagnosis()?.code, 'terminal-busy');
    assert.equal(warnings().filter((w) => w.includes(en(`${NS}diagnosis.terminal-busy`))).length, 1, warnings().join('\n'));
    const approved = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    assert.equal((await approved).wonder.result, 'Success');
    await until('busy cleared', () => lastText('i') === `${NS}status.simulated`, 15_000);
    assert.equal(handleOf().diagnosis(), undefined);
  });
});
