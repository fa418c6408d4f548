import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { allNodes, clearJournals, helper } from './helpers/node-red';
import { selfSignedCertificate } from './helpers/tls';

/** The Wonder cloud gateway on loopback HTTPS: /info answers ConnectionInfo, /ecr the commands (needs x-device-sn). */
async function gateway(terminal: SimulatedTerminal) {
  const cert = selfSignedCertificate();
  const seen: Array<{ url: string; sn: string | undefined }> = [];
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sn = req.headers['x-device-sn'];
      seen.push({ url: req.url ?? '', sn: typeof sn === 'string' ? sn : undefined });
      const reply = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url !== '/info' && !sn) return reply({ code: 40002, message: 'device sn required', data: null });
      void terminal.handle(Buffer.concat(chunks)).then((answer) => {
        if (answer !== null) reply({ code: 0, message: 'success', data: JSON.parse(answer) });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Pair endpoint on the cloud path: an empty device SN is learnt by ConnectionInfo (real runtime, loopback gateway)', function () {
  this.timeout(20_000);
  let dir: string;
  before((done) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-pair-cloud-'));
    helper.startServer(done);
  });
  after((done) => {
    fs.rmSync(dir, { recursive: true, force: true });
    helper.stopServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    clearJournals();
  });

  const cloudConfig = (base: string, caFile: string, extra: Record<string, unknown> = {}) => ({
    transport: 'cloud',
    cloudEnv: 'custom',
    cloudUrl: `${base}/ecr`,
    cloudInfoUrl: `${base}/info`,
    businessId: 'biz-1',
    deviceSn: '',
    caFile,
    ...extra,
  });

  it('asks ConnectionInfo first, pairs with the SN it gave, and answers with that SN for the dialog', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 10, pinCode2: '845512', serverDeviceSN: 'NEXGO-N96-1170270945' });
    const gw = await gateway(terminal);
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, gw.cert.cert);
    try {
      await helper.load(allNodes, []);
      const res = await helper.request().post('/wonder-ecr/pair').send({ id: 'new-cloud', config: cloudConfig(gw.base, caFile), pairingCode: '260880' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.deviceSn, 'NEXGO-N96-1170270945');
      assert.equal(res.body.learntDeviceSn, true);
      assert.deepEqual(terminal.received.map((r) => r.action), ['ConnectionInfo', 'Pair', 'Ack']);
      assert.equal(gw.seen[0]!.url, '/info');
      assert.ok(gw.seen.filter((s) => s.url === '/ecr').every((s) => s.sn === 'NEXGO-N96-1170270945'));
    } finally {
      terminal.stop();
      await gw.close();
    }
  });

  it('a wrong code fails at ConnectionInfo as a security error (not "needs the device SN"), and Pair is not sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 10 });
    const gw = await gateway(terminal);
    const caFile = path.join(dir, 'ca2.pem');
    fs.writeFileSync(caFile, gw.cert.cert);
    try {
      await helper.load(allNodes, []);
      const res = await helper.request().post('/wonder-ecr/pair').send({ id: 'wrong-cloud', config: cloudConfig(gw.base, caFile), pairingCode: '111111' });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.code, 'E_SECURITY');
      assert.ok(!terminal.received.some((r) => r.action === 'Pair'), 'Pair was sent after ConnectionInfo failed');
      assert.ok(!JSON.stringify(res.body).includes('111111'));
    } finally {
      terminal.stop();
      await gw.close();
    }
  });

  it('a custom endpoint with neither a device SN nor a ConnectionInfo URL is refused naming deviceSn; a bad info URL names cloudInfoUrl', async () => {
    await helper.load(allNodes, []);
    const noSn = await helper.request().post('/wonder-ecr/pair').send({ config: { transport: 'cloud', cloudEnv: 'custom', cloudUrl: 'https://127.0.0.1:9/ecr', businessId: 'b' }, pairingCode: '260880' });
    assert.equal(noSn.status, 400);
    assert.equal(noSn.body.field, 'deviceSn');
    const badInfo = await helper.request().post('/wonder-ecr/pair').send({ config: { transport: 'cloud', cloudEnv: 'custom', cloudUrl: 'https://127.0.0.1:9/ecr', cloudInfoUrl: 'http://127.0.0.1:9/info', businessId: 'b' }, pairingCode: '260880' });
    assert.equal(badInfo.status, 400);
    assert.equal(badInfo.body.field, 'cloudInfoUrl');
  });
});
