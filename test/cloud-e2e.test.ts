import { strict as assert } from 'node:assert';
import { TerminalSession } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { CloudTransport } from '../lib/transport/cloud';
import { cloudGateway as gateway } from './helpers/cloud-gateway';

describe('cloud path end to end (HTTPS gateway on loopback)', function () {
  this.timeout(15_000);

  it('learns the device SN by ConnectionInfo, pairs, switches to pinCode2, then takes a sale', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 10, pinCode2: '845512', serverDeviceSN: 'NEXGO-N96-1170270945' });
    const gw = await gateway(terminal);
    const transport = new CloudTransport({ env: 'custom', commandUrl: `${gw.base}/ecr`, infoUrl: `${gw.base}/info`, businessId: 'biz-1', ca: gw.cert.cert });
    const session = new TerminalSession({ transport, pairingCode: '260880', clientDeviceSN: 'CLOUD-ECR' });
    try {
      await session.open();
      assert.equal(transport.deviceSn, 'NEXGO-N96-1170270945');
      assert.equal(gw.seen[0]!.url, '/info');

      const pair = await session.request('Pair', {});
      assert.equal(pair.body.pinCode2, '845512');
      session.rekey(pair.body.pinCode2!);
      const ack = await session.request('Ack', { ackUuid: pair.body.ackUuid as string });
      assert.equal(ack.body.deviceStatus, 'Free');
      const sale = await session.request('Sale', { amount: '10.20', currency: 'HKD' });
      assert.equal(sale.result, 'Success');

      // Before Pair: the pairing code; after it: pinCode2.
      assert.deepEqual(terminal.received.map((r) => `${r.action}:${r.key ?? 'pinCode1'}`), [
        'ConnectionInfo:pinCode1',
        'Pair:pinCode1',
        'Ack:pinCode2',
        'Sale:pinCode2',
      ]);
      const commands = gw.seen.filter((s) => s.url === '/ecr');
      assert.ok(commands.every((s) => s.headers['x-device-sn'] === 'NEXGO-N96-1170270945'));
      assert.ok(gw.seen.every((s) => s.headers['x-p-business-id'] === 'biz-1'));
      const ids = gw.seen.map((s) => s.headers['x-request-id']);
      assert.equal(new Set(ids).size, ids.length, 'x-request-id reused');
    } finally {
      await session.close();
      terminal.stop();
      await gw.close();
    }
  });

  it('a gateway error code is a transport error that names the code', async () => {
    const terminal = new SimulatedTerminal();
    const gw = await gateway(terminal);
    const transport = new CloudTransport({ env: 'custom', commandUrl: `${gw.base}/ecr`, infoUrl: `${gw.base}/info`, businessId: 'other', deviceSn: 'SN', ca: gw.cert.cert });
    const session = new TerminalSession({ transport, pairingCode: '260880', clientDeviceSN: 'CLOUD-ECR', commandTimeoutMs: 2_000 });
    try {
      await session.open();
      await assert.rejects(session.request('DeviceInfo'), (err: unknown) => /40001/.test((err as Error).message));
      assert.equal(terminal.received.length, 0);
    } finally {
      await session.close();
      await gw.close();
    }
  });
});
