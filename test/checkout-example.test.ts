import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
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

/** A GET's status with exactly these headers (node:http: fetch adds sec-fetch-mode of its own). */
function rawStatus(base: string, pathname: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise<number>((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: pathname, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
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

  it('a declined sale answers 402 with its reason and no card, and bad input 400 with the code and a generic message, nothing of the library or the terminal', async () => {
    const declined = await checkout({ amount: '900.01', currency: 'HKD', referenceID: 'checkout-declined-1' });
    assert.equal(declined.status, 402, declined.text);
    const body = JSON.parse(declined.text) as Record<string, unknown>;
    assert.equal(body.result, 'Failed');
    assert.equal(body.reason, 'declined');
    assert.equal(body.card, '');
    assert.deepEqual(Object.keys(body).sort(), ['amount', 'card', 'currency', 'reason', 'referenceID', 'result']);

    for (const input of [{ amount: '10.205', currency: 'HKD' }, { amount: '1.00', currency: 'hkd!' }, { amount: 'DROP TABLE', currency: 'HKD' }]) {
      const bad = await checkout(input);
      assert.equal(bad.status, 400, bad.text);
      const error = JSON.parse(bad.text) as Record<string, unknown>;
      assert.equal(error.result, 'Error');
      assert.equal(error.code, 'E_VALIDATION');
      assert.equal(error.message, 'The request is not valid: check amount, currency and referenceID');
      assert.ok(Object.keys(error).every((k) => ['result', 'code', 'message', 'referenceID'].includes(k)), bad.text);
      // Nothing of what was sent nor of the library's own text comes back.
      assert.ok(!bad.text.includes(input.amount) && !bad.text.includes(input.currency), bad.text);
      assert.doesNotMatch(bad.text, /decimal|must|ValidationError|at [A-Za-z]+ \(/);
    }
  });

  it('takes only application/json: a form, text/plain or no content type is answered 415 with its code, and never reaches the terminal', async () => {
    const json = JSON.stringify({ amount: '3.00', currency: 'HKD', referenceID: 'checkout-415' });
    const cases: Array<[string | undefined, string]> = [
      ['application/x-www-form-urlencoded', 'amount=3.00&currency=HKD&referenceID=checkout-415'],
      ['text/plain', json],
      ['multipart/form-data; boundary=x', `--x\r\ncontent-disposition: form-data; name="amount"\r\n\r\n3.00\r\n--x--\r\n`],
      [undefined, json],
    ];
    for (const [type, body] of cases) {
      const res = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: type === undefined ? {} : { 'content-type': type }, body: type === undefined ? new Blob([body]) : body });
      assert.equal(res.status, 415, `${type}: ${res.status}`);
      assert.deepEqual(await res.json(), { result: 'Error', code: 'E_MEDIA_TYPE', message: 'Send the request as application/json' });
    }
    // None of them reached the terminal: the reference is still free for a sale of another amount.
    const sale = await checkout({ amount: '4.00', currency: 'HKD', referenceID: 'checkout-415' });
    assert.equal(sale.status, 200, sale.text);
    assert.equal((JSON.parse(sale.text) as { amount: string }).amount, '4.00');
  });

  it('the demo refuses requests from another origin to the endpoint and the admin API, and sends no Access-Control-Allow-Origin', async () => {
    const json = JSON.stringify({ amount: '5.00', currency: 'HKD', referenceID: 'checkout-cross-origin' });
    const refused = async (url: string, headers: Record<string, string>, body?: string) => {
      const res = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, ...(body === undefined ? {} : { body }) });
      assert.equal(res.status, 403, `${url} ${JSON.stringify(headers)}: ${res.status}`);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(((await res.json()) as { code: string }).code, 'E_CROSS_ORIGIN');
    };
    const jsonType = { 'content-type': 'application/json' };
    await refused(`${red.url}/wonder/checkout`, { ...jsonType, origin: 'http://127.0.0.1:9' }, json);
    await refused(`${red.url}/wonder/checkout`, { ...jsonType, origin: 'null' }, json);
    await refused(`${red.url}/wonder/checkout`, { ...jsonType, 'sec-fetch-site': 'same-site' }, json);
    await refused(`${red.url}/flows`, { ...jsonType, 'node-red-deployment-type': 'full', origin: 'http://evil.example' }, '[]');
    await refused(`${red.url}/flows`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' });
    // Its own pages (same origin), and tools that are no browser, go on.
    const own = await fetch(`${red.url}/flows`, { headers: { origin: red.url, 'sec-fetch-site': 'same-origin' } });
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('access-control-allow-origin'), null, 'the admin app answered with Access-Control-Allow-Origin');
    // A link to the editor from elsewhere opens it (a top-level GET navigation), nothing more.
    // (node:http: fetch sets its own sec-fetch-mode.)
    assert.equal(await rawStatus(red.url, '/', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }), 200);
    assert.equal(await rawStatus(red.url, '/flows', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }), 403);
    const sale = await checkout({ amount: '5.00', currency: 'HKD', referenceID: 'checkout-cross-origin' });
    assert.equal(sale.status, 200, sale.text);
  });

  it('a DNS name other than localhost in the Host header (a rebinding page) is refused', async () => {
    const { port } = new URL(red.url);
    const status = (host: string) => rawStatus(red.url, '/flows', { host });
    assert.equal(await status(`attacker.example:${port}`), 403);
    assert.equal(await status(`localhost:${port}`), 200);
    assert.equal(await status(`127.0.0.1:${port}`), 200);
    assert.equal(await status(`[::1]:${port}`), 200);
  });

  it('with WONDER_CHECKOUT_TOKEN set, the endpoint answers 401 without the token (before anything else) and takes a sale with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-checkout-token-'));
    const token = crypto.randomBytes(24).toString('base64url');
    const withToken = await startNodeRed({ flows: example(), userDir: dir, env: { WONDER_CHECKOUT_TOKEN: token } });
    try {
      const post = (headers: Record<string, string>) =>
        fetch(`${withToken.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ amount: '2.00', currency: 'HKD' }) });
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${token}x` }, { authorization: `Bearer ${token.slice(0, -1)}` }]) {
        const res = await post(headers);
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.deepEqual(await res.json(), { result: 'Error', code: 'E_UNAUTHORIZED', message: 'A valid token is required' });
      }
      const ok = await post({ authorization: `Bearer ${token}` });
      assert.equal(ok.status, 200);
      assert.ok(!withToken.output().includes(token), 'the token in the log');
    } finally {
      await withToken.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
