import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PairAgainError, PairingStore, pairingKeyFromFile, pairingKeyFromSecret } from '../lib/session/pairing-store';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { nodeRedCredentialSecret } from '../lib/terminal';
import { cloudGateway } from './helpers/cloud-gateway';
import { runCli } from './helpers/cli-run';

const ID = { businessId: 'biz-1', deviceSn: 'NEXGO-N96-1170270945' };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-store-'));

describe('pairing store (pinCode2 at rest)', () => {
  it('keeps pinCode2 encrypted in a 0600 file of a 0700 directory, and reads it back for the same terminal only', () => {
    const dir = path.join(tmp(), 'wonder-ecr');
    const store = new PairingStore(dir, pairingKeyFromSecret('node-red secret'));
    assert.equal(store.load(ID), undefined);
    store.save(ID, '845512');
    const file = store.fileFor(ID);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.ok(!fs.readFileSync(file, 'utf8').includes('845512'));
    assert.equal(store.load(ID), '845512');
    assert.equal(new PairingStore(dir, pairingKeyFromSecret('node-red secret')).load(ID), '845512');
    // Another terminal has no record; this record copied under its name does not open.
    const other = { businessId: 'biz-1', deviceSn: 'OTHER-SN' };
    assert.equal(store.load(other), undefined);
    fs.copyFileSync(file, store.fileFor(other));
    assert.throws(() => store.load(other), (err: unknown) => err instanceof PairAgainError && err.code === 'E_SECURITY' && !/845512/.test(String(err)));
  });

  it('refuses a record under another key, a tampered record and a symbolic link, saying "pair again"', () => {
    const dir = tmp();
    const store = new PairingStore(dir, pairingKeyFromSecret('secret A'));
    store.save(ID, '845512');
    assert.throws(() => new PairingStore(dir, pairingKeyFromSecret('secret B')).load(ID), /pair again/);
    const file = store.fileFor(ID);
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    const data = Buffer.from(record.data, 'base64');
    data[0]! ^= 1;
    fs.writeFileSync(file, JSON.stringify({ ...record, data: data.toString('base64') }));
    assert.throws(() => store.load(ID), PairAgainError);
    fs.rmSync(file);
    const target = path.join(dir, 'elsewhere.json');
    new PairingStore(path.join(dir, 'x'), pairingKeyFromSecret('secret A')).save(ID, '845512');
    fs.copyFileSync(path.join(dir, 'x', path.basename(file)), target);
    fs.symlinkSync(target, file);
    assert.throws(() => store.load(ID), /symbolic link/);
    // Saving replaces the link itself, never what it points to.
    store.save(ID, '731904');
    assert.ok(!fs.lstatSync(file).isSymbolicLink());
    assert.equal(store.load(ID), '731904');
    assert.equal(new PairingStore(path.join(dir, 'x'), pairingKeyFromSecret('secret A')).load(ID), '845512');
  });

  it('a key file is made once (0600) and reused; Node-RED secret as its runtime picks it', () => {
    const file = path.join(tmp(), 'state', 'pairing.key');
    const key = pairingKeyFromFile(file);
    assert.equal(key.length, 32);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(pairingKeyFromFile(file), key);
    const settings = (values: Record<string, unknown>) => ({ get: (k: string) => { if (!(k in values)) throw new Error('no such setting'); return values[k]; } });
    assert.equal(nodeRedCredentialSecret(settings({ credentialSecret: 'mine', _credentialSecret: 'generated' })), 'mine');
    assert.equal(nodeRedCredentialSecret(settings({ _credentialSecret: 'generated' })), 'generated');
    assert.equal(nodeRedCredentialSecret(settings({ credentialSecret: false, _credentialSecret: 'generated' })), undefined);
    assert.equal(nodeRedCredentialSecret(settings({})), undefined);
  });
});


const cli = runCli;

describe('wonder-ecr pair keeps pinCode2 for later commands (cloud, loopback HTTPS gateway)', function () {
  this.timeout(30_000);

  it('pair, then a sale in another process under the stored pinCode2; a terminal that refuses it: exit 5, "pair again"', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 10, pinCode2: '845512', serverDeviceSN: ID.deviceSn });
    const gw = await cloudGateway(terminal);
    const home = tmp();
    const ca = path.join(home, 'ca.pem');
    fs.writeFileSync(ca, gw.cert.cert);
    const env = { XDG_STATE_HOME: path.join(home, 'state'), WONDER_PIN: '260880' };
    const target = ['--cloud', `${gw.base}/ecr`, '--business-id', ID.businessId, '--device-sn', ID.deviceSn, '--ca', ca];
    try {
      const pair = await cli(['pair', ...target], env);
      assert.equal(pair.code, 0, pair.stderr);
      const stateDir = path.join(home, 'state', 'wonder-ecr');
      assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
      const files = fs.readdirSync(stateDir).sort();
      assert.equal(files.length, 2);
      for (const f of files) assert.equal(fs.statSync(path.join(stateDir, f)).mode & 0o777, 0o600);

      const sale = await cli(['sale', ...target, '--amount', '10.20', '--currency', 'HKD', '--reference', 'cli-cloud-1'], env);
      assert.equal(sale.code, 0, sale.stderr);
      assert.equal(terminal.count('Pair'), 1);
      assert.deepEqual(terminal.received.map((r) => `${r.action}:${r.key ?? 'pinCode1'}`), ['Pair:pinCode1', 'Ack:pinCode2', 'Sale:pinCode2']);

      gw.terminal = new SimulatedTerminal({ cardDelayMs: 10, pinCode2: '731904', serverDeviceSN: ID.deviceSn });
      const refused = await cli(['info', ...target], env);
      assert.equal(refused.code, 5);
      assert.match(refused.stderr, /pair again/);
      assert.ok(!/845512|731904|260880/.test(refused.stderr + refused.stdout));
    } finally {
      terminal.stop();
      await gw.close();
    }
  });
});
