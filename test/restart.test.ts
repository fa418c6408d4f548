import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { httpSink as collector } from './helpers/http-sink';
import { committed, readLedgerLookups } from './helpers/ledger-files';
import { until } from './helpers/wait';

describe('fault suite: Node-RED stopped mid-sale and started again (real process, real pty)', function () {
  this.timeout(90_000);
  let pty: PtyPair;
  let terminal: SimulatedTerminal;
  let server: SerialServer;
  let red: NodeRedProcess | undefined;

  before(async () => {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20, slowCardMs: 2_500 });
    server = await serveSerial(terminal, { path: pty.b });
  });
  after(async () => {
    await red?.stop('SIGKILL');
    terminal.stop();
    await server.close();
    await pty.stop();
  });

  it('recovers the sale from the journal, emits it from its node flagged recovered, and never sends it again', async () => {
    const sink = await collector();
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-restart-'));
    const flows = [
      { id: 'tab1', type: 'tab', label: 'kiosk' },
      { id: 'tty', type: 'wonder-terminal', name: 'kiosk', transport: 'serial', serialPort: pty.a, baudRate: 115200, timeout: '30', resolveTimeout: '30', pollInterval: '0.2', busyPolicy: 'queue' },
      { id: 'inj', type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: '{"amount":"900.05","currency":"HKD","referenceID":"power-cut-1"}', payloadType: 'json', wires: [['sale']] },
      { id: 'sale', type: 'wonder-sale', z: 'tab1', terminal: 'tty', wires: [['wrap']] },
      { id: 'wrap', type: 'change', z: 'tab1', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"payload": payload, "wonder": wonder}', tot: 'jsonata' }], wires: [['post']] },
      { id: 'post', type: 'http request', z: 'tab1', method: 'POST', ret: 'txt', url: sink.url, wires: [[]] },
    ];
    red = await startNodeRed({ flows: [], userDir, env: { WONDER_DEMO_LOG: 'trace' } });
    const withCreds = flows.map((n) => (n.id === 'tty' ? { ...n, credentials: { pairingCode: '260880' } } : n));
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(withCreds) });
    assert.equal(deploy.status, 204);
    await until('the terminal connected', () => /connected to the terminal/.test(red!.output()), { detail: () => red!.output() });

    // The customer taps; Node-RED loses power while the terminal waits for the card.
    assert.equal((await fetch(`${red.url}/inject/inj`, { method: 'POST' })).status, 200);
    await until('the sale at the terminal', () => terminal.count('Sale', 'power-cut-1') > 0, 5_000);
    assert.equal(terminal.count('Sale', 'power-cut-1'), 1);
    const firstLog = red.output();
    await red.stop('SIGKILL');
    // One ledger per user directory; the payment carries its terminal's place and serial number (learnt on connecting).
    const ledgerFile = path.join(userDir, 'wonder-ecr', 'ledger.db');
    const atKill = committed(ledgerFile).get('power-cut-1')!;
    assert.deepEqual([atKill.state, atKill.terminal, atKill.deviceSn, atKill.node, atKill.deliveredAt], ['open', `serial-${pty.a}`, 'SIM-WONDER-0001', 'sale', undefined]);

    // The terminal approves meanwhile; Node-RED comes back.
    await until('the terminal to approve meanwhile', () => terminal.transactions.get('power-cut-1')?.state === 'Success');
    red = await startNodeRed({ flows: JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')), userDir, env: { WONDER_DEMO_LOG: 'trace' } });
    await until('the recovered sale', () => sink.bodies.length > 0, { detail: () => red!.output() });
    assert.equal(sink.bodies.length, 1, red.output());
    const recovered = sink.bodies[0];
    assert.equal(recovered.wonder.recovered, true);
    assert.equal(recovered.wonder.referenceID, 'power-cut-1');
    assert.equal(recovered.wonder.result, 'Success');
    assert.equal(recovered.payload.transactionStatus, 'Success');
    assert.equal(terminal.count('Sale', 'power-cut-1'), 1);
    // Settled, and noted as delivered once it reached the flow.
    const settled = await until('delivered_at recorded', () => {
      const e = committed(ledgerFile).get('power-cut-1');
      return e?.deliveredAt !== undefined ? e : undefined;
    });
    assert.equal(settled.state, 'Success');
    assert.ok(settled.deliveredAt !== undefined, 'delivered_at');
    assert.ok(readLedgerLookups(ledgerFile).some((l) => l.reference === 'power-cut-1' && l.asked_by === 'recovery' && l.result === 'Success'), JSON.stringify(readLedgerLookups(ledgerFile)));
    // Logged at trace level, twice over: never the pairing code, never card data.
    const logs = firstLog + red.output();
    assert.ok(!logs.includes('260880'), 'pairing code in the log');
    assert.ok(!logs.includes('476173'), 'card data in the log');
    await sink.close();
  });
});
