import { strict as assert } from 'node:assert';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { allNodes, helper, nextMessage, useRuntime } from './helpers/node-red';
import { fdsOn } from './helpers/fds';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

describe('Node-RED nodes over a real pseudo-terminal (socat) with the simulator on the other end', function () {
  this.timeout(30_000);
  let pty: PtyPair;
  let server: SerialServer;
  let terminal: SimulatedTerminal;

  useRuntime();
  beforeEach(async () => {
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ cardDelayMs: 20 });
    server = await serveSerial(terminal, { path: pty.b });
  });
  afterEach(async () => {
    await server.close();
    await pty.stop();
  });

  function flow() {
    return [
      { id: 'f1', type: 'tab', label: 'serial' },
      { id: 'tty', type: 'wonder-terminal', name: 'pty terminal', transport: 'serial', serialPort: pty.a, baudRate: 115200, timeout: '20' },
      ...['sale', 'refund', 'void', 'status', 'abort', 'info', 'pair'].map((n) => ({
        id: n,
        type: n === 'info' ? 'wonder-device-info' : `wonder-${n}`,
        z: 'f1',
        terminal: 'tty',
        wires: [['out']],
      })),
      { id: 'out', type: 'helper', z: 'f1' },
    ];
  }

  async function connected() {
    const node = helper.getNode('tty') as unknown as { wonder: { state: string } };
    await until('the terminal connected', () => node.wonder.state === 'connected', { within: 5_000, detail: () => `state ${node.wonder.state}` });
  }

  async function send(id: string, payload: unknown) {
    const out = nextMessage('out');
    helper.getNode(id).receive({ payload });
    return out;
  }

  it('every action node works over the wire', async () => {
    await helper.load(allNodes, flow(), { tty: { pairingCode: '260880' } });
    await connected();
    const pair = await send('pair', {});
    assert.equal(pair.wonder.responseHeader.serverDeviceSN, 'SIM-WONDER-0001');
    const sale = await send('sale', { amount: '12.00', currency: 'HKD' });
    assert.equal(sale.wonder.result, 'Success');
    assert.equal((await send('refund', { amount: '2.00', currency: 'HKD', orgReferenceID: sale.wonder.referenceID })).wonder.result, 'Success');
    const sale2 = await send('sale', { amount: '5.00', currency: 'HKD' });
    assert.equal((await send('void', { orgReferenceID: sale2.wonder.referenceID })).wonder.result, 'Success');
    assert.equal((await send('status', { targetReferenceID: sale2.wonder.referenceID })).payload.transactionStatus, 'Voided');
    assert.equal((await send('info', {})).payload.deviceStatus, 'Free');
    assert.equal((await send('abort', {})).payload.status, 'Failed');
    assert.equal(terminal.count('Sale'), 2);
  });

  it('redeploys close and reopen the port: no leaked handle, no "Cannot lock port"', async () => {
    const baseline = fdsOn(pty.a);
    for (let i = 0; i < 10; i++) {
      await helper.load(allNodes, flow(), { tty: { pairingCode: '260880' } });
      await connected();
      assert.equal(fdsOn(pty.a), baseline + 1, `deploy ${i}: one handle on the port`);
      const sale = await send('sale', { amount: '1.00', currency: 'HKD' });
      assert.equal(sale.wonder.result, 'Success');
      await helper.unload();
      assert.equal(fdsOn(pty.a), baseline, `deploy ${i}: port released on close`);
    }
    const errors = JSON.stringify(helper.log().args);
    assert.ok(!/Cannot lock port/i.test(errors), 'a redeploy found the port still locked');
  });
});
