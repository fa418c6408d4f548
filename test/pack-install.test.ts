import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { until } from './helpers/wait';

/**
 * The package as a user gets it: `npm pack` in a copy of the repository as a
 * clean clone has it (no dist/: prepack builds), then the tarball installed
 * the way Node-RED's palette manager installs a module (`npm install
 * --engine-strict --omit=dev` in the user directory) into a fresh user
 * directory of Node-RED 5 on Node 26 and of Node-RED 4.1 on Node 22. Each
 * Node-RED starts as a real process (`red.js -u <dir> -p 0`), a flow is
 * deployed through the admin API (http in → wonder-sale on a simulated
 * terminal → http response) and a sale is taken through it.
 */
const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  main: string;
  bin: Record<string, string>;
  'node-red': { nodes: Record<string, string>; plugins?: Record<string, string> };
};
const { ensureNode } = require(path.join(root, 'scripts', 'test', 'node-install.js')) as {
  ensureNode(major: number, log: (line: string) => void): { bin: string; version: string };
};
const { ensureNodeRed5 } = require(path.join(root, 'scripts', 'node-red-install.js')) as {
  ensureNodeRed5(nodeBin: string, nodeVersion: string, log: (line: string) => void): string;
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const LOCALES = ['en-US', 'zh-TW', 'zh-CN'];

/** The environment of a child that must not see this test run's npm or Node-RED settings. */
function cleanEnv(nodeBin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|WONDER_|NODE_RED_|NODE_OPTIONS$)/i.test(k)) env[k] = v;
  }
  env.PATH = `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`;
  return env;
}

/** This machine's npm (the one a palette install runs), as a script to run under a chosen Node. */
function npmCli(): string {
  const onPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const cli = path.join(path.dirname(fs.realpathSync(onPath)), 'npm-cli.js');
  assert.ok(fs.existsSync(cli), `npm's npm-cli.js next to ${onPath}`);
  return cli;
}

/** Runs a command to its end (asynchronously: mocha's time-out still works); rejects on a time-out. */
function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(cmd)} ${args.join(' ')} did not finish within ${options.timeoutMs / 1000} s:\n${out}`));
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

/** What a clean clone holds: the files git tracks, and new ones it does not ignore. */
function cleanCopy(into: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const rel of files) {
    const from = path.join(root, rel);
    const stat = fs.lstatSync(from, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) continue; // deleted in the work tree, or a link
    fs.mkdirSync(path.dirname(path.join(into, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(into, rel));
  }
  // `npm ci` would fill node_modules: the repository's own (devDependencies for the build).
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(into, 'node_modules'), 'dir');
}

/** The tarball's file names, without the leading `package/`. */
function tarballFiles(tarball: string): string[] {
  const names = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const n of names) assert.ok(n.startsWith('package/'), `${n} outside package/`);
  return names.map((n) => n.slice('package/'.length)).filter((n) => n !== '' && !n.endsWith('/'));
}

interface Started {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** `node red.js -u <userDir> -p 0` (listening on loopback only), resolved once its flows have started. */
function startNodeRed(nodeBin: string, nodeRedDir: string, userDir: string): Promise<Started> {
  const child = spawn(nodeBin, [path.join(nodeRedDir, 'red.js'), '-u', userDir, '-p', '0', '-D', 'uiHost=127.0.0.1'], {
    cwd: userDir,
    env: cleanEnv(nodeBin),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Node-RED did not start within 60 s:\n${out}`));
    }, 60_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      const server = /Server now running at (http:\/\/[^\s/]+)\//.exec(out);
      if (server && /Started flows/.test(out)) {
        clearTimeout(timer);
        resolve({ child, url: server[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${code}) before starting:\n${out}`));
    });
  });
}

/** Stops a Node-RED by its process id; resolves with its exit code (null when a signal ended it). */
function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    process.kill(child.pid!, 'SIGTERM');
  });
}

/** The flow a user would build: POST /shop/sale {amount, currency, referenceID} → a sale on the simulated terminal → JSON. */
const FLOW = [
  { id: 'pack_tab', type: 'tab', label: 'Installed from the tarball' },
  { id: 'pack_terminal', type: 'wonder-terminal', name: 'Simulated terminal', transport: 'simulator', timeout: 120, resolveTimeout: 120, pollInterval: 2, busyPolicy: 'queue' },
  { id: 'pack_in', type: 'http in', z: 'pack_tab', name: '', url: '/shop/sale', method: 'post', upload: false, swaggerDoc: '', x: 120, y: 80, wires: [['pack_sale']] },
  { id: 'pack_sale', type: 'wonder-sale', z: 'pack_tab', name: 'sale', terminal: 'pack_terminal', amount: '', amountType: 'str', currency: '', currencyType: 'str', x: 300, y: 80, wires: [['pack_answer']] },
  {
    id: 'pack_answer',
    type: 'function',
    z: 'pack_tab',
    name: 'answer',
    func: "msg.payload = { result: msg.wonder.result, outcome: msg.wonder.outcome, referenceID: msg.wonder.referenceID, amount: msg.payload.amount, currency: msg.payload.currency };\nreturn msg;",
    outputs: 1,
    x: 460,
    y: 80,
    wires: [['pack_out']],
  },
  { id: 'pack_catch', type: 'catch', z: 'pack_tab', name: '', scope: ['pack_sale'], uncaught: false, x: 120, y: 140, wires: [['pack_error']] },
  {
    id: 'pack_error',
    type: 'function',
    z: 'pack_tab',
    name: 'error',
    func: "msg.statusCode = 500;\nmsg.payload = { code: msg.wonder && msg.wonder.code, message: msg.error && msg.error.message };\nreturn msg;",
    outputs: 1,
    x: 300,
    y: 140,
    wires: [['pack_out']],
  },
  { id: 'pack_out', type: 'http response', z: 'pack_tab', name: '', statusCode: '', headers: {}, x: 620, y: 80, wires: [] },
];

describe('the package as a user installs it: npm pack from a clean clone, npm install --engine-strict into Node-RED', function () {
  this.timeout(600_000);
  let work: string;
  let tarball: string;
  let files: string[];

  before(async function () {
    // A clean clone's build compiles everything (about a minute here); two installs follow.
    this.timeout(400_000);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-pack-'));
    const clone = path.join(work, 'clone');
    cleanCopy(clone);
    assert.ok(!fs.existsSync(path.join(clone, 'dist')), 'the copy has no dist/');
    const packs = path.join(work, 'packs');
    fs.mkdirSync(packs);
    const packed = await run(process.execPath, [npmCli(), 'pack', '--pack-destination', packs], { cwd: clone, env: cleanEnv(process.execPath), timeoutMs: 360_000 });
    assert.equal(packed.status, 0, packed.out);
    const made = fs.readdirSync(packs);
    assert.deepEqual(made, [`${pkg.name}-${pkg.version}.tgz`]);
    tarball = path.join(packs, made[0]!);
    files = tarballFiles(tarball);
  });

  after(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds the compiled library and nodes with their editor files, bin, examples, README, CHANGELOG, LICENSE and the SBOM, and nothing else', () => {
    const allowed = [
      /^(package\.json|README\.md|CHANGELOG\.md|LICENSE|sbom\.cdx\.json)$/,
      /^bin\/[\w-]+\.js$/,
      /^examples\/[\w-]+\.json$/,
      /^dist\/lib\/([\w-]+\/)*[\w-]+\.(js|d\.ts)$/,
      /^dist\/nodes\/([\w-]+\/)*[\w-]+\.(js|html)$/,
      /^dist\/nodes\/locales\/(en-US|zh-TW|zh-CN)\/[\w-]+\.(json|html)$/,
      /^dist\/nodes\/icons\/[\w-]+\.(svg|png)$/,
    ];
    assert.deepEqual(files.filter((f) => !allowed.some((re) => re.test(f))), [], 'files outside the allowlist');
    const forbidden = /(^|\/)(test|bench|scripts|helpers|fixtures|node_modules|\.cache|demo|security)\/|\.test\.|\.map$|\.tsbuildinfo$|\.ts$/;
    assert.deepEqual(
      files.filter((f) => forbidden.test(f) && !f.endsWith('.d.ts')),
      [],
      'tests, benchmarks, scripts, caches, test helpers, source maps or sources',
    );

    const need = new Set<string>(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'sbom.cdx.json', pkg.main, pkg.main.replace(/\.js$/, '.d.ts'), ...Object.values(pkg.bin)]);
    for (const file of [...Object.values(pkg['node-red'].nodes), ...Object.values(pkg['node-red'].plugins ?? {})]) {
      need.add(file);
      need.add(file.replace(/\.js$/, '.html'));
    }
    for (const file of Object.values(pkg['node-red'].nodes)) {
      for (const lang of LOCALES) need.add(`dist/nodes/locales/${lang}/${path.basename(file, '.js')}.json`);
    }
    for (const icon of fs.readdirSync(path.join(root, 'icons'))) need.add(`dist/nodes/icons/${icon}`);
    for (const example of fs.readdirSync(path.join(root, 'examples'))) need.add(`examples/${example}`);
    const have = new Set(files);
    assert.deepEqual([...need].filter((f) => !have.has(f)), [], 'missing from the tarball');
    // The compiled modules the nodes load come along (not only the entry files).
    assert.ok(files.filter((f) => f.startsWith('dist/lib/')).length > 40, 'the compiled library');
    assert.ok(files.some((f) => f.startsWith('dist/nodes/common/')), 'the nodes\' shared modules');
  });

  it('the LICENSE is the Apache License 2.0 the package.json names, with its appendix', () => {
    const text = execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' });
    assert.equal((JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { license: string }).license, 'Apache-2.0');
    assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004/);
    assert.match(text, /END OF TERMS AND CONDITIONS/);
    assert.match(text, /APPENDIX: How to apply the Apache License to your work\./);
    assert.ok(text.split('\n').length > 190, 'the full text');
  });

  const targets = [
    {
      label: 'Node-RED 5 on Node 26',
      node: 26,
      nodeRed: (bin: string, version: string) => ensureNodeRed5(bin, version, log),
      nodeRedMajor: '5.',
    },
    {
      label: 'Node-RED 4.1 on Node 22',
      node: 22,
      nodeRed: () => path.join(root, 'node_modules', 'node-red'),
      nodeRedMajor: '4.1.',
    },
  ];

  for (const target of targets) {
    it(`${target.label}: the tarball installs with --engine-strict --omit=dev, Node-RED starts with its nodes, and a deployed flow takes a sale`, async function () {
      this.timeout(300_000);
      const node = ensureNode(target.node, log);
      const nodeRedDir = target.nodeRed(node.bin, node.version);
      const nodeRedVersion = (JSON.parse(fs.readFileSync(path.join(nodeRedDir, 'package.json'), 'utf8')) as { version: string }).version;
      assert.ok(nodeRedVersion.startsWith(target.nodeRedMajor), `${nodeRedDir} holds Node-RED ${nodeRedVersion}`);

      // A fresh user directory, as Node-RED makes it on first start, with the module installed as the palette manager does.
      const userDir = fs.mkdtempSync(path.join(work, 'user-'));
      fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }));
      const install = await run(node.bin, [npmCli(), 'install', '--engine-strict', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
        cwd: userDir,
        env: cleanEnv(node.bin),
        timeoutMs: 240_000,
      });
      assert.equal(install.status, 0, `npm install under Node ${node.version}:\n${install.out}`);
      const installed = path.join(userDir, 'node_modules', pkg.name);
      assert.equal((JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string }).version, pkg.version);
      assert.ok(fs.existsSync(path.join(userDir, 'node_modules', 'serialport', 'package.json')), 'its dependency serialport');
      for (const dev of ['typescript', 'mocha', 'node-red', 'node-red-node-test-helper']) {
        assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', dev)), `devDependency ${dev} installed`);
      }
      assert.ok(!fs.existsSync(path.join(installed, 'dist', 'test')), 'tests installed');

      const red = await startNodeRed(node.bin, nodeRedDir, userDir);
      try {
        assert.match(red.output(), new RegExp(`Node-RED version: v${nodeRedVersion.replace(/\./g, '\\.')}`));
        assert.match(red.output(), new RegExp(`Node\\.js\\s+version: v${node.version.replace(/\./g, '\\.')}`));
        // The palette: this module, from the user directory, every node set loaded.
        const info = await fetch(`${red.url}/nodes/${pkg.name}`, { headers: { accept: 'application/json' } });
        assert.equal(info.status, 200, red.output());
        const mod = (await info.json()) as { version: string; nodes: Array<{ name: string; types: string[] }>; plugins: Array<{ name: string; err?: string }> };
        assert.equal(mod.version, pkg.version);
        // A node set whose module failed to load carries an err (Node-RED's admin API says "loaded" for none).
        for (const { name } of mod.nodes) {
          const set = (await (await fetch(`${red.url}/nodes/${pkg.name}/${name}`, { headers: { accept: 'application/json' } })).json()) as { enabled: boolean; err?: string };
          assert.ok(set.enabled && set.err === undefined, `${name}: ${JSON.stringify(set.err) ?? 'disabled'}`);
        }
        assert.deepEqual(mod.plugins.map((p) => [p.name, p.err]), Object.keys(pkg['node-red'].plugins ?? {}).map((name) => [name, undefined]));
        const types = new Set(mod.nodes.flatMap((s) => s.types));
        for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(types.has(type), `${type} in the palette`);
        // The editor gets the nodes' HTML and the message catalogs from the installed package.
        const html = await (await fetch(`${red.url}/nodes`, { headers: { accept: 'text/html' } })).text();
        assert.match(html, /data-template-name="wonder-sale"/);
        const zh = (await (await fetch(`${red.url}/locales/${pkg.name}/wonder-sale?lng=zh-TW`)).json()) as Record<string, unknown>;
        assert.ok(Object.keys(zh).length > 0, 'the zh-TW catalog');
        const icon = await fetch(`${red.url}/icons/${pkg.name}/wonder-sale.svg`);
        assert.equal(icon.status, 200);
        assert.match(await icon.text(), /<svg/);

        const deploy = await fetch(`${red.url}/flows`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
          body: JSON.stringify(FLOW),
        });
        assert.equal(deploy.status, 204, await deploy.text());

        // The route exists once the deployed flow has started; until then it answers 404 and nothing is sent.
        const body = { amount: '10.20', currency: 'HKD', referenceID: `pack-${target.node}` };
        const res = await until(
          'the route /shop/sale (404 until the flow has started)',
          async () => {
            const r = await fetch(`${red.url}/shop/sale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
            if (r.status !== 404) return r;
            await r.text();
            return undefined;
          },
          { within: 30_000, every: 100, detail: red.output },
        );
        const text = await res.text();
        assert.equal(res.status, 200, `${text}\n${red.output()}`);
        assert.deepEqual(JSON.parse(text), { result: 'Success', outcome: 'approved', referenceID: body.referenceID, amount: '10.20', currency: 'HKD' });
        assert.doesNotMatch(red.output(), /\[error\]/, 'an error in the log');
      } finally {
        const code = await stop(red.child);
        assert.ok(code === 0 || code === null, `Node-RED exit ${code}:\n${red.output()}`);
      }
    });
  }
});
