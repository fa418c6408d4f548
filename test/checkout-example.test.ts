import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';

const root = path.resolve(__dirname, '..', '..');
const SECRET_FILE = '.wonder-credential-secret';
const example = () => JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as Array<Record<string, unknown>>;

/** Node-RED's own credential format: aes-256-ctr under SHA-256 of the secret, IV in the first 32 hex digits. */
function decryptCredentials(file: string, secret: string): unknown {
  const stored = (JSON.parse(fs.readFileSync(file, 'utf8')) as { $: string }).$;
  const key = crypto.createHash('sha256').update(secret).digest();
  const decipher = crypto.createDecipheriv('aes-256-ctr', key, Buffer.from(stored.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(stored.slice(32), 'base64', 'utf8') + decipher.final('utf8'));
}

describe('the HTTP checkout example and the demo settings (a real Node-RED process)', function () {
  this.timeout(90_000);
  let red: NodeRedProcess;
  let userDir: string;

  const checkout = async (body: unknown) => {
    const res = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-checkout-'));
    red = await startNodeRed({ flows: example(), userDir });
  });
  after(async () => {
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('a sale answers the caller with the result, reference, amount, currency and the last 4 card digits only', async () => {
    const { status, text } = await checkout({ amount: '10.20', currency: 'HKD', referenceID: 'checkout-ok-1' });
    assert.equal(status, 200, text);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['amount', 'card', 'currency', 'referenceID', 'result']);
    assert.deepEqual(body, { result: 'Success', referenceID: 'checkout-ok-1', amount: '10.20', currency: 'HKD', card: '**** 0119' });
    // The simulator's card: prefix 476173, hash "simulated"; none of the terminal's body goes out.
    for (const leak of ['476173', 'simulated', 'panToken', 'panHash', 'creditCard', 'rrn', 'brn', 'responseHeader']) {
      assert.ok(!text.includes(leak), `${leak} in the answer: ${text}`);
    }
  });

  it('a declined sale answers 402 with no card, and bad input 400 with the code, nothing of the terminal', async () => {
    const declined = await checkout({ amount: '900.01', currency: 'HKD', referenceID: 'checkout-declined-1' });
    assert.equal(declined.status, 402, declined.text);
    const body = JSON.parse(declined.text) as Record<string, unknown>;
    assert.equal(body.result, 'Failed');
    assert.equal(body.card, '');
    assert.deepEqual(Object.keys(body).sort(), ['amount', 'card', 'currency', 'referenceID', 'result']);

    const bad = await checkout({ amount: '10.205', currency: 'HKD' });
    assert.equal(bad.status, 400, bad.text);
    const error = JSON.parse(bad.text) as Record<string, unknown>;
    assert.equal(error.result, 'Error');
    assert.equal(error.code, 'E_VALIDATION');
    assert.ok(Object.keys(error).every((k) => ['result', 'code', 'message', 'referenceID'].includes(k)), bad.text);
  });

  it('the credential secret is random, made on first start in the user directory with mode 0600, and not in settings.js', async () => {
    const file = path.join(userDir, SECRET_FILE);
    const stat = fs.lstatSync(file);
    assert.ok(stat.isFile());
    assert.equal(stat.mode & 0o777, 0o600);
    const secret = fs.readFileSync(file, 'utf8').trim();
    assert.match(secret, /^[0-9a-f]{64}$/);
    const settings = fs.readFileSync(path.join(root, 'demo', 'settings.js'), 'utf8');
    assert.ok(!settings.includes(secret));
    assert.doesNotMatch(settings, /credentialSecret:\s*['"`]/, 'a literal credential secret in settings.js');
    assert.ok(!red.output().includes(secret), 'the secret in the log');

    // Another user directory gets another secret.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-secret-'));
    try {
      const { credentialSecret } = require(path.join(root, 'demo', 'credential-secret.js')) as { credentialSecret(dir: string): string };
      const second = credentialSecret(other);
      assert.match(second, /^[0-9a-f]{64}$/);
      assert.notEqual(second, secret);
      assert.equal(credentialSecret(other), second, 'reused on the next start');
      // A secret file others can read is refused, not used.
      fs.chmodSync(path.join(other, SECRET_FILE), 0o644);
      assert.throws(() => credentialSecret(other), /can be read by other users: run chmod 600/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('credentials deployed are encrypted with that secret, and still read after a restart (the secret is reused)', async () => {
    const flows = example();
    flows.find((n) => n.type === 'wonder-terminal')!.credentials = { pairingCode: '260880' };
    const deploy = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(deploy.status, 204);
    const secretFile = path.join(userDir, SECRET_FILE);
    const secret = fs.readFileSync(secretFile, 'utf8').trim();
    const credFile = path.join(userDir, 'flows_cred.json');
    assert.ok(!fs.readFileSync(credFile, 'utf8').includes('260880'));
    assert.deepEqual(decryptCredentials(credFile, secret), { wonder_example_terminal: { pairingCode: '260880' } });

    assert.equal(await red.stop(), 0);
    red = await startNodeRed({ flows: JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')) as unknown[], userDir });
    assert.equal(fs.readFileSync(secretFile, 'utf8').trim(), secret, 'the secret changed on restart');
    assert.doesNotMatch(red.output(), /Error loading credentials|Failed to decrypt/i, red.output());
    // The runtime decrypted the stored code: the editor's credentials API says it has one.
    const creds = await fetch(`${red.url}/credentials/wonder-terminal/wonder_example_terminal`);
    assert.equal(creds.status, 200);
    assert.deepEqual(await creds.json(), { has_pairingCode: true });
    const sale = await checkout({ amount: '1.00', currency: 'HKD', referenceID: 'checkout-after-restart' });
    assert.equal(sale.status, 200, sale.text);
  });
});
