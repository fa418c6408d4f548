import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { credentialsFileOf, exposedGatewayFiles } from '../nodes/common/gateway-files';

/**
 * Node-RED's files that hold the terminals' secrets (flows_cred.json and the
 * key in .config.runtime.json), as a usual install leaves them: 0644 in a
 * 0755 user directory. A real Node-RED process with the demo settings.
 */
const root = path.resolve(__dirname, '..', '..');
const NOBODY = 65534;
const example = () => JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as unknown[];
const CRED_CONTENT = '{"$":"0123456789abcdef0123456789abcdefSECRETBODY"}';
const RUNTIME_CONTENT = '{"_credentialSecret":"RUNTIMEKEYVALUE"}';

describe("Node-RED's secret files open to other users: warned once at start, with the fix", function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  let red: NodeRedProcess | undefined;
  const userDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-gw-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('names what others can read: the user directory, the credentials file of the flow file, .config.runtime.json', () => {
    const dir = userDir();
    assert.equal(credentialsFileOf(dir), path.join(dir, 'flows_cred.json'));
    assert.equal(credentialsFileOf(dir, 'shop.json'), path.join(dir, 'shop_cred.json'));
    assert.equal(credentialsFileOf(dir, '/srv/flows/x.json'), '/srv/flows/x_cred.json');
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), CRED_CONTENT, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, '.config.runtime.json'), RUNTIME_CONTENT, { mode: 0o600 });
    fs.chmodSync(dir, 0o700);
    assert.deepEqual(exposedGatewayFiles(dir), []);
    // Readable files in a closed folder are out of other users' reach (Node-RED 4.1 writes .config.runtime.json 0644).
    fs.chmodSync(path.join(dir, '.config.runtime.json'), 0o644);
    assert.deepEqual(exposedGatewayFiles(dir), []);
    fs.chmodSync(path.join(dir, '.config.runtime.json'), 0o600);
    fs.chmodSync(path.join(dir, 'flows_cred.json'), 0o640);
    fs.chmodSync(dir, 0o711);
    assert.deepEqual(exposedGatewayFiles(dir), [
      { file: dir, mode: 0o711 },
      { file: path.join(dir, 'flows_cred.json'), mode: 0o640 },
    ]);
  });

  it('an open user directory or file inside a closed folder above it (a 0700 home) is out of reach: only a way through every folder up to the root counts', () => {
    const home = userDir();
    const dir = path.join(home, '.node-red');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), CRED_CONTENT);
    fs.writeFileSync(path.join(dir, '.config.runtime.json'), RUNTIME_CONTENT);
    for (const f of ['flows_cred.json', '.config.runtime.json']) fs.chmodSync(path.join(dir, f), 0o644);
    fs.chmodSync(dir, 0o755);
    const all = [
      { file: dir, mode: 0o755 },
      { file: path.join(dir, 'flows_cred.json'), mode: 0o644 },
      { file: path.join(dir, '.config.runtime.json'), mode: 0o644 },
    ];
    // The home closed: nothing inside is reachable, however open.
    fs.chmodSync(home, 0o700);
    assert.deepEqual(exposedGatewayFiles(dir), []);
    // Others may pass through the home (and /tmp, and /): all three are open to them.
    fs.chmodSync(home, 0o711);
    assert.deepEqual(exposedGatewayFiles(dir), all);
    // Only the group may pass: what only others may read is out of reach, what the group may read is not.
    fs.chmodSync(home, 0o710);
    fs.chmodSync(dir, 0o705);
    for (const f of ['flows_cred.json', '.config.runtime.json']) fs.chmodSync(path.join(dir, f), 0o604);
    assert.deepEqual(exposedGatewayFiles(dir), []);
    fs.chmodSync(dir, 0o750);
    fs.chmodSync(path.join(dir, 'flows_cred.json'), 0o640);
    assert.deepEqual(exposedGatewayFiles(dir), [
      { file: dir, mode: 0o750 },
      { file: path.join(dir, 'flows_cred.json'), mode: 0o640 },
    ]);
    // The user directory named through a symlink from an open folder: the folders above its real path count.
    fs.chmodSync(home, 0o711);
    const link = path.join(userDir(), 'node-red');
    fs.symlinkSync(dir, link);
    assert.deepEqual(exposedGatewayFiles(link).map((e) => e.mode), [0o750, 0o640]);
    fs.chmodSync(home, 0o700);
    assert.deepEqual(exposedGatewayFiles(link), [], 'the closed home behind the link was not seen');
  });

  it('a 0755 user directory in a 0700 home, with 0644 files: no warning at start', async () => {
    const home = userDir();
    fs.chmodSync(home, 0o700);
    const dir = path.join(home, '.node-red');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), CRED_CONTENT, { mode: 0o644 });
    red = await startNodeRed({ flows: example(), userDir: dir });
    assert.doesNotMatch(red.output(), /other users of this machine can read/);
  });

  it('a 0755 user directory with 0644 flows_cred.json and .config.runtime.json: one warning naming them and the fix, never their contents', async () => {
    const dir = userDir();
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), CRED_CONTENT);
    fs.writeFileSync(path.join(dir, '.config.runtime.json'), RUNTIME_CONTENT);
    for (const f of ['flows_cred.json', '.config.runtime.json']) fs.chmodSync(path.join(dir, f), 0o644);
    fs.chmodSync(dir, 0o755);
    red = await startNodeRed({ flows: example(), userDir: dir });
    const out = red.output();
    const warnings = out.split('\n').filter((l) => l.includes('other users of this machine can read'));
    assert.equal(warnings.length, 1, out);
    const line = warnings[0]!;
    assert.ok(line.includes(`${dir} (mode 0755)`), line);
    assert.ok(line.includes(`${path.join(dir, 'flows_cred.json')} (mode 0644)`), line);
    assert.ok(line.includes(`${path.join(dir, '.config.runtime.json')} (mode 0644)`), line);
    assert.ok(line.includes(`chmod 700 ${dir}`), line);
    assert.match(line, /credentialSecret: process\.env\.NODE_RED_CREDENTIAL_SECRET/);
    assert.match(line, /UMask=0077/);
    assert.ok(!out.includes('SECRETBODY') && !out.includes('RUNTIMEKEYVALUE'), 'a file content in the log');
  });

  it('a closed user directory (0700): no warning, whatever mode Node-RED gives the files inside', async () => {
    const dir = userDir();
    fs.chmodSync(dir, 0o700);
    red = await startNodeRed({ flows: example(), userDir: dir });
    assert.doesNotMatch(red.output(), /other users of this machine can read/);
  });

  it("<userDir>/wonder-ecr of another user: the terminal refuses it, naming the path and the fix, and takes no payment", async () => {
    const dir = userDir();
    fs.chmodSync(dir, 0o700);
    const own = path.join(dir, 'wonder-ecr');
    fs.mkdirSync(own, { mode: 0o700 });
    fs.chownSync(own, NOBODY, NOBODY);
    red = await startNodeRed({ flows: example(), userDir: dir });
    const res = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '1.00', currency: 'HKD' }) });
    assert.notEqual(res.status, 200, await res.text());
    assert.ok(red.output().includes(`${own} belongs to another user (uid ${NOBODY}`), red.output());
    assert.equal(fs.statSync(own).uid, NOBODY);
    assert.deepEqual(fs.readdirSync(own), [], 'a file was written into the foreign folder');
  });
});
