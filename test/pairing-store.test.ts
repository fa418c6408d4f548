import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LedgerBusyError, openLedger, openLedgerOf } from '../lib/ledger';
import { PairAgainError, PairingStore, pairingKeyFromFile, pairingKeyFromSecret } from '../lib/session/pairing-store';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { nodeRedCredentialSecret } from '../lib/terminal';
import { cloudGateway } from './helpers/cloud-gateway';
import { runCli } from './helpers/cli-run';
import { tempDir } from './helpers/temp';

const ID = { businessId: 'biz-1', deviceSn: 'NEXGO-N96-1170270945' };
const tmp = () => tempDir('wonder-store-');

describe('pairing store (pinCode2 at rest, in the ledger)', () => {
  /** The ledger's cloud_pairing rows, read with SQLite itself (the ledger closed). */
  const rowsOf = (file: string) => {
    const db = new DatabaseSync(file, { readOnly: true, timeout: 5000 });
    try {
      return db.prepare('SELECT business_id, device_sn, format, iv, tag, data FROM cloud_pairing ORDER BY device_sn').all() as Array<Record<string, string>>;
    } finally {
      db.close();
    }
  };
  const edit = (file: string, sql: string, ...params: string[]) => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };

  it('keeps pinCode2 sealed in a cloud_pairing row of the 0600 ledger, and reads it back for the same terminal only', async () => {
    const dir = path.join(tmp(), 'wonder-ecr');
    const file = path.join(dir, 'ledger.db');
    const store = new PairingStore(file, pairingKeyFromSecret('node-red secret'));
    assert.equal(store.load(ID), undefined);
    await store.save(ID, '845512');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('pairing-')), []);
    assert.equal(store.load(ID), '845512');
    assert.equal(new PairingStore(file, pairingKeyFromSecret('node-red secret')).load(ID), '845512');
    assert.equal(openLedgerOf(file), undefined, 'a read gives the ledger back');
    const rows = rowsOf(file);
    assert.deepEqual(rows.map((r) => [r.business_id, r.device_sn, r.format]), [[ID.businessId, ID.deviceSn, 'wonder-ecr-pairing/1']]);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('ledger.db'))) assert.ok(!fs.readFileSync(path.join(dir, f)).includes('845512'), f);
    // Another terminal has no row; this row moved to its name does not open.
    const other = { businessId: 'biz-1', deviceSn: 'OTHER-SN' };
    assert.equal(store.load(other), undefined);
    edit(file, 'UPDATE cloud_pairing SET device_sn = ?', other.deviceSn);
    assert.throws(() => store.load(other), (err: unknown) => err instanceof PairAgainError && err.code === 'E_SECURITY' && !/845512/.test(String(err)));
    assert.equal(store.load(ID), undefined);
  });

  it('refuses a row under another key and a tampered row, saying "pair again"; removing forgets it', async () => {
    const file = path.join(tmp(), 'ledger.db');
    const store = new PairingStore(file, pairingKeyFromSecret('secret A'));
    await store.save(ID, '845512');
    assert.throws(() => new PairingStore(file, pairingKeyFromSecret('secret B')).load(ID), /pair again/);
    const data = Buffer.from(rowsOf(file)[0]!.data!, 'base64');
    data[0]! ^= 1;
    edit(file, 'UPDATE cloud_pairing SET data = ?', data.toString('base64'));
    assert.throws(() => store.load(ID), PairAgainError);
    // Saving replaces the row: the new pinCode2 opens again.
    await store.save(ID, '731904');
    assert.equal(store.load(ID), '731904');
    await store.remove(ID);
    assert.equal(store.load(ID), undefined);
    assert.throws(() => store.load({ businessId: 'biz 1', deviceSn: ID.deviceSn }), /businessId/);
  });

  it('shares the ledger its owner has open (a runtime\'s terminals); another owner in this process reads it but cannot write to it', async () => {
    const file = path.join(tmp(), 'ledger.db');
    const runtime = {};
    const ledger = openLedger(file, { owner: runtime });
    try {
      const store = new PairingStore(file, pairingKeyFromSecret('secret A'), { owner: runtime });
      await store.save(ID, '845512');
      assert.equal(store.load(ID), '845512');
      assert.equal(openLedgerOf(file), ledger);
      const stranger = new PairingStore(file, pairingKeyFromSecret('secret A'));
      assert.equal(stranger.load(ID), '845512');
      await assert.rejects(stranger.save(ID, '731904'), (err: unknown) => err instanceof LedgerBusyError);
      assert.equal(store.load(ID), '845512');
    } finally {
      await ledger.close();
    }
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
      assert.ok(files.includes('ledger.db') && files.includes('pairing.key'), files.join(' '));
      assert.deepEqual(files.filter((f) => f.startsWith('pairing-')), []);
      for (const f of files) {
        assert.equal(fs.statSync(path.join(stateDir, f)).mode & 0o777, 0o600, f);
        assert.ok(!fs.readFileSync(path.join(stateDir, f)).includes('845512'), f);
      }

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
