import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPrivateDirectory, ensurePrivateDirectory, Journal, openPrivateAppend, pairingKeyFromFile, readPrivateFile } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveLan, type LanServer } from '../lib/simulator/servers';
import { runCli } from './helpers/cli-run';

/**
 * The package's own folders and the files it reads back, with real files,
 * modes and owners (the suite runs as root: "another user" is nobody,
 * uid 65534, by chown).
 */
const NOBODY = 65534;
const mode = (p: string) => fs.statSync(p).mode & 0o7777;

const cli = (args: string[], env: Record<string, string>) => runCli(args, { WONDER_PIN: '260880', ...env });

describe("the package's folders and the files it reads: its user's own, closed to others, never chmodded", function () {
  this.timeout(30_000);
  let base: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-private-'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('runs as root here, so that files of another user can be made', () => {
    assert.equal(process.getuid!(), 0, 'these tests chown files to nobody: they need root');
  });

  it('missing folders are created 0700, every level; an existing parent keeps its mode', () => {
    fs.chmodSync(base, 0o755);
    const dir = path.join(base, 'a', 'b', 'c');
    ensurePrivateDirectory(dir);
    for (const level of ['a', 'a/b', 'a/b/c']) assert.equal(mode(path.join(base, level)), 0o700, level);
    assert.equal(mode(base), 0o755, 'the existing parent was chmodded');
  });

  it('an existing folder of ours readable by others is used as it is (0755), never chmodded', () => {
    const dir = path.join(base, 'state');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    ensurePrivateDirectory(dir);
    assert.equal(mode(dir), 0o755);
  });

  it('a folder others can write (0777, 0775, a sticky 1777 like /tmp) is refused, named with the fix, and left as it was', () => {
    for (const m of [0o777, 0o775, 0o1777, 0o757]) {
      const dir = path.join(base, `open-${m.toString(8)}`);
      fs.mkdirSync(dir);
      fs.chmodSync(dir, m);
      assert.throws(
        () => ensurePrivateDirectory(dir),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'E_SECURITY');
          assert.ok(err.message.startsWith(`${dir} can be written by other users (mode ${m.toString(8).padStart(4, '0')})`), err.message);
          // A shared (sticky) folder is never to be closed: only another folder is offered.
          if (m & 0o1000) assert.ok(!err.message.includes('chmod'), err.message);
          else assert.ok(err.message.includes(`chmod 700 ${dir}`), err.message);
          assert.match(err.message, /mkdir -m 700/);
          return true;
        },
      );
      assert.equal(mode(dir), m, 'the refused folder was chmodded');
    }
  });

  it("a folder of another user is refused, even closed (0700), and that user's planted files are not read", () => {
    const dir = path.join(base, 'planted');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'pairing.key'), Buffer.alloc(32, 7), { mode: 0o600 });
    fs.chownSync(path.join(dir, 'pairing.key'), NOBODY, NOBODY);
    fs.chownSync(dir, NOBODY, NOBODY);
    assert.throws(() => checkPrivateDirectory(dir), /belongs to another user \(uid 65534, this process runs as uid 0\).*mkdir -m 700/);
    assert.throws(() => pairingKeyFromFile(path.join(dir, 'pairing.key')), /belongs to another user/);
    assert.throws(() => new Journal(path.join(dir, 'journal.jsonl')), /belongs to another user/);
    assert.equal(fs.statSync(dir).uid, NOBODY, 'the folder was taken over');
    assert.equal(mode(dir), 0o700);
  });

  it('a symbolic link in place of the folder is refused', () => {
    const real = path.join(base, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(base, 'link');
    fs.symlinkSync(real, link);
    assert.throws(() => ensurePrivateDirectory(link), /is a symbolic link/);
  });

  it("a key or identity file read back must be ours, not writable by others, not a symbolic link", () => {
    const file = path.join(base, 'pairing.key');
    fs.writeFileSync(file, Buffer.alloc(32, 1), { mode: 0o600 });
    assert.equal(readPrivateFile(file, 1024)!.length, 32);
    // Readable by others: read (the folder is what keeps others out), but writable: refused.
    fs.chmodSync(file, 0o644);
    assert.equal(readPrivateFile(file, 1024)!.length, 32);
    fs.chmodSync(file, 0o666);
    assert.throws(() => readPrivateFile(file, 1024), /can be written by other users \(mode 0666\): not used\. Run chmod 600/);
    fs.chmodSync(file, 0o620);
    assert.throws(() => readPrivateFile(file, 1024), /can be written by other users \(mode 0620\)/);
    fs.chmodSync(file, 0o600);
    fs.chownSync(file, NOBODY, NOBODY);
    assert.throws(() => readPrivateFile(file, 1024), (err: Error & { code?: string }) => err.code === 'E_SECURITY' && /belongs to another user \(uid 65534/.test(err.message));
    assert.throws(() => openPrivateAppend(file), /belongs to another user/);
    assert.equal(mode(file), 0o600, 'the foreign file was chmodded');
    const link = path.join(base, 'link.key');
    fs.symlinkSync(file, link);
    assert.throws(() => readPrivateFile(link, 1024), /is a symbolic link: not read/);
  });

  describe('wonder-ecr sale --journal DIR/x (a LAN simulator)', () => {
    let lan: LanServer;
    let terminal: SimulatedTerminal;
    before(async () => {
      terminal = new SimulatedTerminal({ cardDelayMs: 0 });
      lan = await serveLan(terminal);
    });
    after(() => lan.close());
    const sale = (journal: string, reference: string, state: string) =>
      cli(['sale', '--lan', `127.0.0.1:${lan.port}`, '--amount', '1.00', '--currency', 'HKD', '--reference', reference, '--journal', journal], { XDG_STATE_HOME: state });

    it('creates the missing folders 0700 and leaves the existing one as it was', async () => {
      fs.chmodSync(base, 0o755);
      const journal = path.join(base, 'shop', 'till-1', 'journal.jsonl');
      const run = await sale(journal, 'private-cli-1', path.join(base, 'state'));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(mode(path.join(base, 'shop')), 0o700);
      assert.equal(mode(path.join(base, 'shop', 'till-1')), 0o700);
      assert.equal(mode(journal), 0o600);
      assert.equal(mode(base), 0o755, 'DIR was chmodded');
    });

    it('refuses a journal in a folder others can write (a shared temporary folder, 1777): DIR untouched, nothing sent', async () => {
      const shared = path.join(base, 'tmp');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777);
      const run = await sale(path.join(shared, 'x'), 'private-cli-shared', path.join(base, 'state'));
      assert.notEqual(run.code, 0, run.stdout);
      assert.ok(run.stderr.includes(`${shared} can be written by other users (mode 1777)`), run.stderr);
      assert.match(run.stderr, /mkdir -m 700/);
      assert.equal(mode(shared), 0o1777, 'the shared folder was chmodded');
      assert.equal(terminal.count('Sale', 'private-cli-shared'), 0, 'a sale was sent');
      assert.ok(!fs.existsSync(path.join(shared, 'x')));
    });
  });
});
