import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { allNodes, helper, nextMessage, userDir, useRuntime } from './helpers/node-red';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { registeredTerminal } from '../nodes/common/terminal-registry';
import { connectionStatus } from '../nodes/common/status';
import { committed } from './helpers/ledger-files';
import { fillLedger } from '../bench/ledger-fill';
import { until } from './helpers/wait';

type Handle = { state: string; device: { sn?: string; softwareVersion?: string }; journal?: { file: string; knownSn(address: string): string | undefined } };
const handleOf = (id: string) => (helper.getNode(id) as unknown as { wonder: Handle }).wonder;


/** The errors the runtime logged (node.error) by node id. The test runtime has no message catalogues: a text shows as its key. */
function loggedErrors(): Array<{ id: string; msg: string }> {
  return helper
    .log()
    .args.map((a: any[]) => a[0])
    .filter((e: any) => e?.level === 20)
    .map((e: any) => ({ id: String(e.id), msg: String(e.msg) }));
}

describe('terminal identity in Node-RED (real ptys, a by-id style link)', function () {
  this.timeout(40_000);
  let pty: PtyPair;
  let pty2: PtyPair | undefined;
  let servers: SerialServer[];
  let terminal: SimulatedTerminal;
  let byId: string;

  useRuntime();
  beforeEach(async () => {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20, serverDeviceSN: 'WP-ID-1', softwareVersion: '2.3.4' });
    servers = [await serveSerial(terminal, { path: pty.b })];
    // What udev makes: /dev/serial/by-id/usb-<maker>_<serial>-if00-port0 → the device.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-by-id-'));
    byId = path.join(dir, 'usb-Wonder_ECR_WP-ID-1-if00-port0');
    fs.symlinkSync(fs.realpathSync(pty.a), byId);
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await pty.stop();
    await pty2?.stop();
    pty2 = undefined;
  });

  const terminalNode = (id: string, name: string, serialPort: string) => ({ id, type: 'wonder-terminal', name, transport: 'serial', serialPort, baudRate: 115200, timeout: '20' });
  const sale = (id: string, tty: string) => ({ id, type: 'wonder-sale', z: 'f1', terminal: tty, wires: [['out']] });
  const common = [
    { id: 'f1', type: 'tab', label: 'identity' },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];

  it('learns the SN and version on connecting; the ledger records the SN at its place, and each payment carries it', async () => {
    await helper.load(allNodes, [...common, terminalNode('tty', 'counter', byId), sale('s', 'tty')], { tty: { pairingCode: '260880' } });
    await until('the SN', () => handleOf('tty').device.sn === 'WP-ID-1', 8_000);
    assert.equal(handleOf('tty').device.softwareVersion, '2.3.4');
    assert.equal(registeredTerminal('tty')!.identity, `serial-${byId}`);
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '4.00', currency: 'HKD', referenceID: 'ID-1' } });
    assert.equal((await out).wonder.result, 'Success');
    const file = path.join(userDir, 'wonder-ecr', 'ledger.db');
    const row = committed(file).get('ID-1')!;
    assert.deepEqual([row.terminal, row.deviceSn, row.configNode, row.address], [`serial-${byId}`, 'WP-ID-1', 'tty', byId]);
    await until('the terminal row', () => handleOf('tty').journal!.knownSn(`serial-${byId}`) === 'WP-ID-1', 8_000);
  });

  it('open payments of a place and SN that no terminal takes up are warned about once the terminals have said their SNs; those of the SN deployed are not', async () => {
    const file = path.join(userDir, 'wonder-ecr', 'ledger.db');
    fillLedger(file, [
      { referenceID: 'ELSEWHERE', action: 'Sale', terminal: 'serial-/dev/gone', deviceSn: 'WP-GONE', requestID: 'r', state: 'open', openedAt: '2026-01-01T00:00:00Z' },
      { referenceID: 'MOVED', action: 'Sale', terminal: 'serial-/dev/old-path', deviceSn: 'WP-ID-1', requestID: 'r2', state: 'open', openedAt: '2026-01-01T00:00:00Z' },
    ]);
    await helper.load(allNodes, [...common, terminalNode('tty', 'counter', byId)], { tty: { pairingCode: '260880' } });
    const warnings = () => JSON.stringify(helper.log().args);
    // Not at once: the terminal deployed may be that SN's, under a new path.
    assert.equal(warnings().includes('orphanedJournal'), false);
    await until('the warning', () => warnings().includes('orphanedJournal'), 10_000);
    // One place warned about (the test runtime logs the text's key, not its values): the SN deployed takes up its payment made under another path.
    assert.equal(warnings().split('orphanedJournal').length - 1, 1, warnings());
    // That one is asked about at the terminal now at byId (its SN's), never resent.
    await until('MOVED to be asked about', () => terminal.received.some((r) => r.action === 'TransactionStatus' && r.referenceID === 'MOVED'), 8_000);
    assert.equal(terminal.count('Sale', 'MOVED'), 0);
  });

  it('a second config node on the same port (by-id link vs device path) opens nothing and names the first; the first works; alone, the second works', async () => {
    const device = fs.realpathSync(pty.a);
    await helper.load(allNodes, [...common, terminalNode('tty1', 'counter', byId), terminalNode('tty2', 'second', device), sale('s1', 'tty1'), sale('s2', 'tty2')], {
      tty1: { pairingCode: '260880' },
      tty2: { pairingCode: '260880' },
    });
    assert.equal(handleOf('tty2').state, 'same-terminal');
    assert.deepEqual(connectionStatus('same-terminal'), { fill: 'red', shape: 'dot', text: 'node-red-contrib-wonder-ecr/wonder-terminal:status.sameTerminal' });
    assert.ok(loggedErrors().some((e) => e.id === 'tty2' && e.msg.includes('errors.config')), JSON.stringify(loggedErrors()));
    assert.ok(!loggedErrors().some((e) => e.id === 'tty1'), JSON.stringify(loggedErrors()));
    await until('the first to be connected', () => handleOf('tty1').state === 'connected', 8_000);
    const out = nextMessage('out');
    helper.getNode('s1').receive({ payload: { amount: '1.00', currency: 'HKD', referenceID: 'FIRST' } });
    assert.equal((await out).wonder.result, 'Success');
    const caught = nextMessage('caught');
    helper.getNode('s2').receive({ payload: { amount: '2.00', currency: 'HKD', referenceID: 'SECOND' } });
    assert.match((await caught).error.message, /errors\.sameTerminal/);
    assert.equal(terminal.count('Sale', 'SECOND'), 0);

    // The first is removed and the flow deployed again: the second opens the port and works.
    await helper.unload();
    await helper.load(allNodes, [...common, terminalNode('tty2', 'second', device), sale('s2', 'tty2')], { tty2: { pairingCode: '260880' } });
    await until('the second to be connected', () => handleOf('tty2').state === 'connected', 8_000);
    const out2 = nextMessage('out');
    helper.getNode('s2').receive({ payload: { amount: '2.00', currency: 'HKD', referenceID: 'SECOND' } });
    assert.equal((await out2).wonder.result, 'Success');
    assert.equal(terminal.count('Sale', 'SECOND'), 1);
  });

  it('two config nodes that reach one terminal by two lines: once both know its SN, the second stops with "same terminal"', async () => {
    pty2 = await startPtyPair();
    servers.push(await serveSerial(terminal, { path: pty2.b }));
    await helper.load(allNodes, [...common, terminalNode('tty1', 'counter', pty.a), terminalNode('tty2', 'second', pty2.a)], {
      tty1: { pairingCode: '260880' },
      tty2: { pairingCode: '260880' },
    });
    await until('one of them to stop', () => [handleOf('tty1').state, handleOf('tty2').state].includes('same-terminal'), 8_000);
    const [stopped, kept] = handleOf('tty1').state === 'same-terminal' ? ['tty1', 'tty2'] : ['tty2', 'tty1'];
    await until('the other to stay connected', () => handleOf(kept).state === 'connected', 3_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${kept} is ${handleOf(kept).state}, ${stopped} is ${handleOf(stopped).state}`);
    });
    await until('the stopped one to say so', () => loggedErrors().some((e) => e.id === stopped && e.msg.includes('errors.config')), 8_000);
    assert.ok(!loggedErrors().some((e) => e.id === kept), JSON.stringify(loggedErrors()));
  });
});
