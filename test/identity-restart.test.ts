import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { httpSink as collector } from './helpers/http-sink';
import { committed, readTerminals } from './helpers/ledger-files';
import { until } from './helpers/wait';

const SN = 'WP-REPLUG-7';


function flowsFor(serialPort: string, sinkUrl: string) {
  return [
    { id: 'tab1', type: 'tab', label: 'kiosk' },
    { id: 'tty', type: 'wonder-terminal', name: 'kiosk', transport: 'serial', serialPort, baudRate: 115200, timeout: '30', resolveTimeout: '30', pollInterval: '0.2', busyPolicy: 'queue' },
    { id: 'inj', type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: '{"amount":"900.05","currency":"HKD","referenceID":"replug-1"}', payloadType: 'json', wires: [['sale']] },
    { id: 'inj2', type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: '{"amount":"1.00","currency":"HKD","referenceID":"still-mine"}', payloadType: 'json', wires: [['sale']] },
    { id: 'sale', type: 'wonder-sale', z: 'tab1', terminal: 'tty', wires: [['wrap']] },
    { id: 'wrap', type: 'change', z: 'tab1', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"payload": payload, "wonder": wonder}', tot: 'jsonata' }], wires: [['post']] },
    { id: 'post', type: 'http request', z: 'tab1', method: 'POST', ret: 'txt', url: sinkUrl, wires: [[]] },
  ];
}

async function deploy(red: NodeRedProcess, flows: any[]): Promise<void> {
  const withCreds = flows.map((n) => (n.id === 'tty' ? { ...n, credentials: { pairingCode: '260880' } } : n));
  const res = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(withCreds) });
  assert.equal(res.status, 204);
}

describe('terminal identity in real Node-RED processes (real pty)', function () {
  this.timeout(120_000);
  let pty: PtyPair;
  let terminal: SimulatedTerminal;
  let server: SerialServer;
  const reds: NodeRedProcess[] = [];

  beforeEach(async () => {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20, slowCardMs: 2_500, serverDeviceSN: SN });
    server = await serveSerial(terminal, { path: pty.b });
  });
  afterEach(async () => {
    for (const red of reds.splice(0)) await red.stop('SIGKILL');
    terminal.stop();
    await server.close();
    await pty.stop();
  });

  it('a USB adapter back under another path finds its open payment by the SN: settled by TransactionStatus, emitted once, never sent again', async () => {
    const sink = await collector();
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-replug-'));
    const ledgerFile = path.join(userDir, 'wonder-ecr', 'ledger.db');
    let red = await startNodeRed({ flows: [], userDir });
    reds.push(red);
    await deploy(red, flowsFor(pty.a, sink.url));
    // On connecting the terminal says its SN: recorded in the ledger.
    await until('the SN', () => new RegExp(`serial number is ${SN}`).test(red.output()), { within: 15_000, detail: red.output });

    // The customer taps; the gateway loses power while the terminal waits for the card.
    assert.equal((await fetch(`${red.url}/inject/inj`, { method: 'POST' })).status, 200);
    await until('the sale to reach the terminal', () => terminal.count('Sale', 'replug-1') === 1, { within: 15_000, detail: red.output });
    const firstLog = red.output();
    await red.stop('SIGKILL');
    reds.splice(0);
    const atKill = committed(ledgerFile).get('replug-1')!;
    assert.deepEqual([atKill.state, atKill.terminal, atKill.deviceSn], ['open', `serial-${pty.a}`, SN]);

    // The adapter comes back under another name (the socat link renamed); the technician picks the new port.
    const replugged = `${pty.a}-replugged`;
    fs.renameSync(pty.a, replugged);
    await until('the terminal to approve meanwhile', () => terminal.transactions.get('replug-1')?.state === 'Success', { within: 15_000 });
    red = await startNodeRed({ flows: flowsFor(replugged, sink.url), userDir });
    reds.push(red);
    await until('the recovered sale', () => sink.bodies.length === 1, { within: 30_000, detail: red.output });
    const recovered = sink.bodies[0];
    assert.equal(recovered.wonder.recovered, true, JSON.stringify(recovered) + red.output());
    assert.equal(recovered.wonder.referenceID, 'replug-1');
    assert.equal(recovered.wonder.result, 'Success');
    assert.equal(terminal.count('Sale', 'replug-1'), 1);
    // The SN's payment was not called orphaned: the terminal took it up on its first answer.
    assert.doesNotMatch(red.output(), /no deployed terminal/);
    assert.equal(committed(ledgerFile).get('replug-1')!.state, 'Success');
    // Both places have the SN in the ledger's terminals table.
    await until('both places recorded', () => {
      const places = readTerminals(ledgerFile);
      return places.some((t) => t.address === `serial-${pty.a}` && t.device_sn === SN) && places.some((t) => t.address === `serial-${replugged}` && t.device_sn === SN);
    }, { within: 15_000, detail: red.output });
    const logs = firstLog + red.output();
    assert.ok(!logs.includes('260880'), 'pairing code in the log');
    fs.renameSync(replugged, pty.a);
    await sink.close();
  });

  it('two Node-RED processes on one user directory: the second cannot open the ledger and says which process has it; the first goes on', async () => {
    const sink = await collector();
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-two-'));
    const ledgerFile = path.join(userDir, 'wonder-ecr', 'ledger.db');
    const first = await startNodeRed({ flows: [], userDir });
    reds.push(first);
    await deploy(first, flowsFor(pty.a, sink.url));
    await until('the first to learn the SN', () => new RegExp(`serial number is ${SN}`).test(first.output()), { within: 15_000, detail: first.output });

    const second = await startNodeRed({ flows: JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')), userDir });
    reds.push(second);
    await until('the second to refuse the ledger', () => new RegExp(`in use by process ${first.child.pid} `).test(second.output()), { within: 15_000, detail: second.output });
    assert.match(second.output(), /Terminal configuration is invalid/);
    assert.doesNotMatch(second.output(), /connected to the terminal/);

    // The first still takes payments, into its journal, alone.
    assert.equal((await fetch(`${first.url}/inject/inj2`, { method: 'POST' })).status, 200);
    await until('the first\'s sale', () => sink.bodies.length === 1, { within: 15_000, detail: first.output });
    assert.equal(sink.bodies[0].wonder.result, 'Success');
    assert.equal(committed(ledgerFile).get('still-mine')!.state, 'Success');
    // Injecting on the second sends nothing.
    assert.equal((await fetch(`${second.url}/inject/inj2`, { method: 'POST' })).status, 200);
    await until('the second\'s refusal', () => new RegExp(`\\[wonder-sale:sale\\].*in use by process ${first.child.pid} `).test(second.output()), { within: 15_000, detail: second.output });
    assert.equal(terminal.count('Sale', 'still-mine'), 1);
    await sink.close();
  });
});
