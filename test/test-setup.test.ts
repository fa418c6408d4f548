import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The README's test command on a machine without socat: `npm test` run for
 * real (npm's own CLI, scripts/test/run.js) with a PATH of a folder holding
 * only node, sh, env, stand-ins for the other tools and fake sudo / apt-get that
 * record what they were asked. Never installs anything. Run as an ordinary
 * user (nobody, when the tests run as root), so installing is only allowed
 * through the fake sudo.
 */
const root = path.resolve(__dirname, '..', '..');
const NOBODY = 65534;
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function onPath(program: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, program);
    if (dir !== '' && fs.existsSync(file)) return fs.realpathSync(file);
  }
  throw new Error(`${program} is not on PATH`);
}

/** npm's CLI script: the one running this test when under npm, else npm on PATH. */
const npmCli = process.env.npm_execpath?.endsWith('.js') ? process.env.npm_execpath : onPath('npm');

interface Machine {
  dir: string;
  bin: string;
  record: string;
}

function script(file: string, body: string): void {
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** A bin folder with node and stand-ins for udevadm, chromium and openssl; socat is missing. */
function fakeMachine(options: { sudo: boolean; aptGet: boolean }): Machine {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-setup-'));
  const bin = path.join(dir, 'bin');
  const record = path.join(dir, 'record.txt');
  fs.mkdirSync(bin);
  fs.writeFileSync(record, '');
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(onPath('env'), path.join(bin, 'env'));
  fs.symlinkSync(onPath('sh'), path.join(bin, 'sh')); // npm runs scripts with sh
  for (const tool of ['udevadm', 'chromium', 'openssl']) script(path.join(bin, tool), 'exit 0');
  if (options.sudo) {
    script(
      path.join(bin, 'sudo'),
      ['echo "sudo $*" >> "$FAKE_RECORD"', '[ "$1" = "-n" ] || exit 1', 'shift', '[ "$1" = true ] && exit 0', 'exec "$@"'].join('\n'),
    );
  }
  if (options.aptGet) {
    script(
      path.join(bin, 'apt-get'),
      [
        'echo "apt-get $* (DEBIAN_FRONTEND=$DEBIAN_FRONTEND)" >> "$FAKE_RECORD"',
        'if [ "$1" = install ]; then',
        '  for p in "$@"; do',
        '    if [ "$p" = socat ]; then printf "#!/bin/sh\\nexit 0\\n" > "$FAKE_BIN/socat"; /bin/chmod 755 "$FAKE_BIN/socat"; fi',
        '  done',
        'fi',
      ].join('\n'),
    );
  }
  if (asRoot) {
    for (const f of [dir, bin, record, ...fs.readdirSync(bin).map((f) => path.join(bin, f))]) fs.lchownSync(f, NOBODY, NOBODY);
  }
  return { dir, bin, record };
}

interface Run {
  code: number | null;
  output: string;
  ms: number;
}

/** `npm test [-- args]` on the fake machine, as an ordinary user. */
function npmTest(machine: Machine, args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [npmCli, 'test', ...(args.length ? ['--', ...args] : [])], {
      cwd: root,
      env: {
        PATH: machine.bin,
        HOME: machine.dir,
        npm_config_cache: path.join(machine.dir, 'npm-cache'),
        npm_config_update_notifier: 'false',
        FAKE_RECORD: machine.record,
        FAKE_BIN: machine.bin,
      },
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}

function recorded(machine: Machine): string[] {
  return fs.readFileSync(machine.record, 'utf8').split('\n').filter(Boolean);
}

describe('npm test sets up the machine first (scripts/test)', function () {
  this.timeout(60_000);
  const machines: Machine[] = [];
  after(() => {
    for (const m of machines) fs.rmSync(m.dir, { recursive: true, force: true });
  });

  it('without socat and with no right to install, stops within seconds naming socat and the command, before building or testing', async () => {
    const machine = fakeMachine({ sudo: false, aptGet: true });
    machines.push(machine);
    const run = await npmTest(machine, []);
    assert.notEqual(run.code, 0, run.output);
    assert.ok(run.ms < 15_000, `took ${run.ms} ms`);
    assert.match(run.output, /npm test stopped before running any test/);
    assert.match(run.output, /socat \(package socat\)/);
    assert.match(run.output, /may not install them \(not root, and no sudo without a password\)/);
    assert.ok(run.output.includes('sudo apt-get update && sudo apt-get install -y --no-install-recommends socat\n'), run.output);
    for (const present of ['udevadm', 'chromium', 'openssl']) assert.ok(!run.output.includes(`${present} (package`), `${present} named as missing`);
    assert.doesNotMatch(run.output, /Building|passing|failing/);
    assert.deepEqual(recorded(machine), [], 'apt-get or sudo was called');
  });

  it('with sudo allowed, says once what it installs, installs socat with apt-get through sudo -n and goes on', async () => {
    const machine = fakeMachine({ sudo: true, aptGet: true });
    machines.push(machine);
    const run = await npmTest(machine, ['--system-only']);
    assert.equal(run.code, 0, run.output);
    assert.equal(run.output.split('Installing the system packages the tests need: socat (').length - 1, 1, run.output);
    assert.match(run.output, /System packages: socat, udevadm, chromium and openssl present \(installed socat\)/);
    assert.deepEqual(recorded(machine), [
      'sudo -n true',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update',
      'apt-get update (DEBIAN_FRONTEND=noninteractive)',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends socat',
      'apt-get install -y --no-install-recommends socat (DEBIAN_FRONTEND=noninteractive)',
    ]);
  });

  it('without apt-get (not Debian/Ubuntu), names the missing package and stops', async () => {
    const machine = fakeMachine({ sudo: true, aptGet: false });
    machines.push(machine);
    const run = await npmTest(machine, []);
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /socat \(package socat\)/);
    assert.match(run.output, /no apt-get on PATH/);
    assert.deepEqual(recorded(machine), []);
  });
});
