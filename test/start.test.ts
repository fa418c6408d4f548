import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `npm start`'s Node-RED step (scripts/start-node-red.js, after the build and
 * demo-prepare) with nothing but node on PATH: no socat, udevadm, chromium or
 * openssl. It runs Node-RED 5 (every Node the package supports runs it), and
 * the checkout example takes a sale on the simulator.
 */
const root = path.resolve(__dirname, '..', '..');

function expectedNodeRed(): string {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'node-red-5', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  return lock.packages['node_modules/node-red']!.version;
}

describe('npm start on a machine with only Node.js', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let out = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-start-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts the Node-RED this Node allows with the checkout example, and takes a sale', async () => {
    // Not the test legs' choice (WONDER_NODE_RED_DIR): npm start's own.
    const env = { PATH: path.join(dir, 'bin'), HOME: dir, WONDER_DEMO_USERDIR: path.join(dir, 'user'), WONDER_DEMO_PORT: '0' };
    const prepare = spawnSync(process.execPath, [path.join(root, 'scripts', 'demo-prepare.js')], { cwd: root, env, encoding: 'utf8' });
    assert.equal(prepare.status, 0, prepare.stderr);
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start-node-red.js'), '--settings', path.join(root, 'demo', 'settings.js')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED did not start within 60 s:\n${out}`)), 60_000);
      const seen = (d: Buffer) => {
        out += d.toString();
        const server = /Server now running at (http:\/\/[^\s/]+)\//.exec(out);
        if (server && /Started flows/.test(out)) {
          clearTimeout(timer);
          resolve(server[1]!.replace('0.0.0.0', '127.0.0.1'));
        }
      };
      child!.stdout!.on('data', seen);
      child!.stderr!.on('data', seen);
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start's Node-RED exited (${code}):\n${out}`));
      });
    });
    assert.ok(out.startsWith(`Node-RED ${expectedNodeRed()} on Node ${process.versions.node}`), out.slice(0, 200));
    const res = await fetch(`${url}/wonder/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '10.20', currency: 'HKD' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { result: string; amount: string; card?: string };
    assert.equal(body.result, 'Success');
    assert.equal(body.amount, '10.20');
    // Only JSON (a form post can come from any page the user opens): 415 with its code.
    const form = await fetch(`${url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'amount=10.20&currency=HKD' });
    assert.equal(form.status, 415);
    assert.deepEqual(await form.json(), { result: 'Error', code: 'E_MEDIA_TYPE', message: 'Send the request as application/json' });
    // Bad input: the code and a generic message, nothing of the library's text.
    const bad = await fetch(`${url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '10.205', currency: 'HKD' }) });
    assert.equal(bad.status, 400);
    const error = (await bad.json()) as { code: string; message: string };
    assert.equal(error.code, 'E_VALIDATION');
    assert.equal(error.message, 'The request is not valid: check amount, currency and referenceID');
    // Another origin: refused at the endpoint and at the admin API, no Access-Control-Allow-Origin.
    for (const target of ['/wonder/checkout', '/flows']) {
      const other = await fetch(`${url}${target}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' }, body: '{}' });
      assert.equal(other.status, 403, target);
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    }
  });
});
