import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `npm start`'s preparation (scripts/demo-prepare.js) as a person sees it in
 * the terminal: where the credentials are kept, said once when the key is
 * made; a warning when credentials saved before cannot be read with the key
 * there; the lost-answer test amount's wait beside the test amounts.
 */
const root = path.resolve(__dirname, '..', '..');

function prepare(userDir: string): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'demo-prepare.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', WONDER_DEMO_USERDIR: userDir },
    encoding: 'utf8',
  });
  return { out: `${r.stdout}${r.stderr}`, status: r.status };
}

describe('npm start: the demo preparation says where credentials are kept', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-prepare-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('first start: says the key was made and where; later starts: one line, no warning', () => {
    const userDir = path.join(dir, 'user');
    const first = prepare(userDir);
    assert.equal(first.status, 0, first.out);
    assert.match(first.out, /kept encrypted in .*flows_cred\.json/);
    assert.match(first.out, /Keep the two files together/);
    assert.match(first.out, /900\.03 loses its answer and holds the terminal for the 120 s card wait/);
    assert.ok(fs.existsSync(path.join(userDir, '.wonder-credential-secret')));
    const second = prepare(userDir);
    assert.equal(second.status, 0, second.out);
    assert.doesNotMatch(second.out, /Keep the two files together|WARNING/);
    assert.match(second.out, /credentials encrypted with the key in \.wonder-credential-secret/);
  });

  it('credentials saved under a key that is gone: a warning that they cannot be read', () => {
    const userDir = path.join(dir, 'user');
    assert.equal(prepare(userDir).status, 0);
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ $: 'encrypted-under-the-old-key' }));
    fs.rmSync(path.join(userDir, '.wonder-credential-secret'));
    const r = prepare(userDir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /WARNING: credentials saved before cannot be read/);
    assert.match(r.out, /must be entered again/);
  });
});
