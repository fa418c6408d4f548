import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { allNodes, helper, lastText, nextMessage, type Msg, statuses, useRuntime } from './helpers/node-red';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveLan, type LanServer } from '../lib/simulator/servers';
import { listSerialPorts, Terminal } from '../lib/terminal';
import { linkCause } from '../lib/transport/link-cause';
import { startPtyPair } from './helpers/pty';
import { until } from './helpers/wait';

const NS = 'node-red-contrib-wonder-ecr/wonder-terminal:status.';
const catalog = (lang: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'nodes', 'locales', lang, 'wonder-terminal.json'), 'utf8'));

const sinks = [
  { id: 'f1', type: 'tab', label: 'test' },
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
];
const action = (id: string, type: string, terminal = 'T') => ({ id, type, z: 'f1', terminal, wires: [['out']] });


/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('status that tells the truth', function () {
  this.timeout(30_000);
  useRuntime();

  it('status texts are short i18n keys that exist in all three languages', () => {
    const lookup = (o: unknown, key: string) => key.split('.').reduce((v: any, k) => (v === undefined ? undefined : v[k]), o);
    const keys = ['ready', 'unchecked', 'connecting', 'unreachable', 'unknown', 'queued.1', 'queued.9', 'queued.more', 'cause.refused', 'cause.timeout', 'cause.host', 'cause.tls', 'cause.http', 'cause.gateway', 'cause.port', 'simulated', 'simulatedSuccess', 'noTransport'];
    for (const lang of ['en-US', 'zh-TW', 'zh-CN']) {
      const c = catalog(lang);
      for (const key of keys) {
        const text = lookup(c.status, key);
        assert.equal(typeof text, 'string', `${lang} status.${key}`);
        assert.ok(text.length < 20, `${lang} status.${key} "${text}" is 20 characters or more`);
      }
      assert.equal(typeof c.palette.label.payments, 'string');
      assert.equal(typeof c['wonder-terminal'].paletteLabel, 'string');
    }
    assert.equal(catalog('zh-TW').status.unknown, '結果未明，查詢中');
    assert.equal(catalog('zh-CN').status.unknown, '结果未明，查询中');
  });

  it('every catalog has the same keys in en-US, zh-TW and zh-CN', () => {
    const dir = path.join(__dirname, '..', 'nodes', 'locales');
    const keys = (o: unknown, prefix = ''): string[] =>
      typeof o === 'object' && o !== null ? Object.entries(o).flatMap(([k, v]) => keys(v, `${prefix}${k}.`)) : [prefix.slice(0, -1)];
    for (const file of fs.readdirSync(path.join(dir, 'en-US')).filter((f) => f.endsWith('.json'))) {
      const en = keys(JSON.parse(fs.readFileSync(path.join(dir, 'en-US', file), 'utf8'))).sort();
      for (const lang of ['zh-TW', 'zh-CN']) {
        assert.deepEqual(keys(JSON.parse(fs.readFileSync(path.join(dir, lang, file), 'utf8'))).sort(), en, `${lang}/${file}`);
      }
    }
  });

  it('a config saved by an older version (no resolveTimeout, pollInterval, health check, time-out) is valid and takes a sale', async () => {
    const old = { id: 'T', type: 'wonder-terminal', name: 'old', transport: 'simulator', serialPort: '', baudRate: 115200, host: '', port: 8443, cloudEnv: 'staging', busyPolicy: 'queue' };
    await helper.load(allNodes, [old, action('s', 'wonder-sale'), ...sinks]);
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    assert.equal((await out).wonder.result, 'Success');
    assert.ok(!JSON.stringify(helper.log().args).includes('configuration is invalid'));
  });

  it('a LAN terminal with nothing listening is never "ready": not checked, then unreachable (refused) after a health check, ready once it answers', async () => {
    const port = await closedPort();
    const lan = { id: 'T', type: 'wonder-terminal', transport: 'lan', host: '127.0.0.1', port: String(port), healthCheck: '5' };
    await helper.load(allNodes, [lan, action('i', 'wonder-device-info'), ...sinks], { T: { pairingCode: '260880' } });
    // The first check goes out at once: nothing listens.
    await until('unreachable', () => lastText('i') === `${NS}cause.refused`, 15_000);
    assert.ok(!statuses('i').some((s) => s.text === `${NS}ready`), 'shown ready before any answer');
    assert.equal(statuses('i').at(-1)?.fill, 'red');
    // Logged once, by the terminal's diagnosis (host refused), with the transport's words.
    assert.match(JSON.stringify(helper.log().args), /log\.diagnosisDetail/);
    // The terminal comes up on that port: the next check (5 s later) makes it ready.
    let server: LanServer | undefined;
    try {
      server = await serveLan(new SimulatedTerminal(), { port });
      // A simulated terminal answers on that port: it marks its answers, so ready reads "simulated".
      await until('ready', () => lastText('i') === `${NS}simulated`, 10_000);
      assert.equal(statuses('i').at(-1)?.fill, 'green');
    } finally {
      await server?.close();
    }
  });

  it('a serial terminal whose port opens but that never answers shows "no answer" after a health check', async () => {
    const pty = await startPtyPair();
    try {
      const serial = { id: 'T', type: 'wonder-terminal', transport: 'serial', serialPort: pty.a, healthCheck: '5' };
      await helper.load(allNodes, [serial, action('i', 'wonder-device-info'), ...sinks], { T: { pairingCode: '260880' } });
      await until('port open: ready', () => lastText('i') === `${NS}ready`, 15_000);
      // Nothing on the other end of the line: the first check (at once) gets no answer within 5 s.
      await until('no answer', () => lastText('i') === `${NS}cause.timeout`, 10_000);
      assert.equal(statuses('i').at(-1)?.fill, 'red');
    } finally {
      await helper.unload();
      await pty.stop();
    }
  });

  it('without the health check a LAN terminal shows "not checked yet" until its first exchange', async () => {
    const terminal = new SimulatedTerminal();
    const server = await serveLan(terminal);
    try {
      const lan = { id: 'T', type: 'wonder-terminal', transport: 'lan', host: '127.0.0.1', port: String(server.port) };
      await helper.load(allNodes, [lan, action('i', 'wonder-device-info'), ...sinks], { T: { pairingCode: '260880' } });
      await until('not checked', () => lastText('i') === `${NS}unchecked`, 15_000);
      assert.equal(statuses('i').at(-1)?.fill, 'grey');
      const out = nextMessage('out');
      helper.getNode('i').receive({ payload: {} });
      await out;
      await until('ready', () => (helper.getNode('T') as unknown as { wonder: Terminal }).wonder.state === 'connected', 15_000);
    } finally {
      await server.close();
    }
  });

  it('requests waiting behind a sale show "queued (n)" on their node', async () => {
    const terminal = { id: 'T', type: 'wonder-terminal', transport: 'simulator' };
    await helper.load(allNodes, [terminal, action('a', 'wonder-sale'), action('b', 'wonder-sale'), action('c', 'wonder-device-info'), ...sinks]);
    const sim = (helper.getNode('T') as unknown as { wonder: Terminal }).wonder.session!.transport as unknown as { terminal: SimulatedTerminal };
    assert.ok(sim.terminal instanceof SimulatedTerminal);
    const outs: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => outs.push(m));
    // 900.05: a slow cardholder (8 s): the others wait behind it.
    helper.getNode('a').receive({ payload: { amount: '900.05', currency: 'HKD' } });
    await until('a waits for the card', () => lastText('a') === `${NS}waitingCard`, 15_000);
    helper.getNode('b').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    await until('b queued (1)', () => lastText('b') === `${NS}queued.1`, 15_000);
    helper.getNode('c').receive({ payload: {} });
    await until('c queued (2)', () => lastText('c') === `${NS}queued.2`, 15_000);
    assert.equal(lastText('a'), `${NS}waitingCard`, 'the node under way keeps its own status');
    // Abort the slow sale: b then c go out and end with their results.
    void (helper.getNode('T') as unknown as { wonder: Terminal }).wonder.request('Abort', {});
    await until('three answers', () => outs.length === 3, 15_000);
    assert.equal(outs[0]!.wonder.result, 'Failed', 'the aborted sale');
    // On the simulator a success reads "success (simulated)".
    await until('b done', () => lastText('b') === `${NS}simulatedSuccess`, 15_000);
    await until('c done', () => lastText('c') === `${NS}simulatedSuccess`, 15_000);
  });

  it('an outcome still unknown (E_PENDING) shows "unknown — checking" in yellow, not a red error', async () => {
    const terminal = { id: 'T', type: 'wonder-terminal', transport: 'simulator', resolveTimeout: '0.5', pollInterval: '0.1' };
    await helper.load(allNodes, [terminal, action('s', 'wonder-sale'), ...sinks]);
    const caught = nextMessage('caught');
    helper.getNode('s').receive({ payload: { amount: '900.02', currency: 'HKD' } });
    const msg = await caught;
    assert.equal(msg.wonder.code, 'E_PENDING');
    // While it was being settled, and after: unknown, yellow.
    assert.ok(statuses('s').some((s) => s.text === `${NS}unknown` && s.fill === 'yellow'));
    await until('unknown after E_PENDING', () => lastText('s') === `${NS}unknown`, 15_000);
    assert.deepEqual(statuses('s').at(-1), { fill: 'yellow', shape: 'dot', text: `${NS}unknown` });
  });

  it('the health check goes through the queue and never makes a payment refused, even when busy means refuse', async () => {
    const handle = new Terminal({ config: { transport: 'simulator' }, pairingCode: undefined, paymentTimeoutMs: 10_000, busyPolicy: 'reject', healthCheckMs: 5_000 });
    const sent: string[] = [];
    let sale: Promise<unknown> | undefined;
    handle.session!.on('activity', (a: { kind: string; action: string }) => {
      if (a.kind !== 'sending') return; // every request announces itself once as it goes out
      sent.push(a.action);
      // A sale asked for while the first health check is under way.
      if (a.action === 'DeviceInfo' && sale === undefined) sale = handle.request('Sale', { amount: '2.00', currency: 'HKD' });
    });
    try {
      await handle.open();
      await until('the sale asked for', () => sale !== undefined, 15_000);
      const outcome = (await sale) as { result?: string };
      assert.equal(outcome.result, 'Success');
      assert.deepEqual(sent, ['DeviceInfo', 'Sale'], 'one after the other');
      assert.equal(handle.state, 'connected');
    } finally {
      await handle.close();
    }
  });

  it('the serial port list puts /dev/serial/by-id links first, with maker and serial number, then other ports', async () => {
    const pty = await startPtyPair();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-by-id-'));
    try {
      fs.symlinkSync(pty.a, path.join(dir, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
      fs.symlinkSync('/nonexistent/ttyUSB9', path.join(dir, 'usb-Gone_Adapter_X1-if00-port0'));
      const target = fs.realpathSync(pty.a);
      const ports = await listSerialPorts(async () => [{ path: '/dev/ttyS0', manufacturer: undefined }, { path: target, manufacturer: 'FTDI (udev)', serialNumber: 'A50285BI' }], dir);
      assert.deepEqual(ports, [
        { path: path.join(dir, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'), target, manufacturer: 'FTDI (udev)', serialNumber: 'A50285BI', stable: true },
        { path: '/dev/ttyS0', stable: false },
      ]);
      // No udev (SerialPort.list fails): the links alone, maker and serial number read from the name.
      const alone = await listSerialPorts(() => Promise.reject(new Error('udevadm: not found')), dir);
      assert.deepEqual(alone, [{ path: path.join(dir, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'), target, manufacturer: 'FTDI FT232R USB UART', serialNumber: 'A50285BI', stable: true }]);
      assert.deepEqual(await listSerialPorts(async () => [], path.join(dir, 'missing')), []);
      // udevadm that never answers (a busy machine): the links alone once the wait is over, not a list that never comes.
      const stuck = await listSerialPorts(() => new Promise(() => undefined), dir, 50);
      assert.deepEqual(stuck, alone);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await pty.stop();
    }
  });

  it('names the cause of a failed link in a few words', () => {
    const withCode = (code: string) => Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code }) });
    assert.equal(linkCause(withCode('ECONNREFUSED')), 'refused');
    assert.equal(linkCause(withCode('ENOTFOUND')), 'host');
    assert.equal(linkCause(withCode('DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls');
    assert.equal(linkCause(Object.assign(new Error('no answer'), { code: 'E_TIMEOUT' })), 'timeout');
    assert.equal(linkCause(new Error('LAN terminal 1.2.3.4:8443 answered HTTP 502')), 'http');
    assert.equal(linkCause(Object.assign(new Error('gateway'), { name: 'CloudApiError' })), 'gateway');
    assert.equal(linkCause(undefined), 'other');
  });
});
