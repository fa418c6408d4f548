import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const root = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(root, 'scripts', 'audit-deps.js');

interface Run {
  code: number | null;
  out: string;
}

function audit(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

type Lock = { lockfileVersion: number; packages: Record<string, Record<string, unknown>> };

/** A lockfile shaped like npm's: the package depends on serialport, which depends on debug, which depends on ms. */
function fakeLock(versions: { debug: string; ms: string; nestedMs?: string; devDebug?: string }): Lock {
  const packages: Lock['packages'] = {
    '': { name: 'fake', version: '1.0.0', dependencies: { serialport: '^13.0.0' }, devDependencies: { mocha: '^12.0.0' } },
    'node_modules/serialport': { version: '13.0.0', dependencies: { debug: '^4.0.0' } },
    'node_modules/debug': { version: versions.debug, dependencies: { ms: '^2.0.0' } },
    'node_modules/ms': { version: versions.ms },
    'node_modules/mocha': { version: '12.0.3', dev: true, dependencies: { debug: '*' } },
  };
  if (versions.nestedMs !== undefined) packages['node_modules/debug/node_modules/ms'] = { version: versions.nestedMs };
  if (versions.devDebug !== undefined) packages['node_modules/mocha/node_modules/debug'] = { version: versions.devDebug, dev: true };
  return { lockfileVersion: 3, packages };
}

const LIST = JSON.parse(fs.readFileSync(path.join(root, 'security', 'advisories.json'), 'utf8')) as { updated: string; reviewed: Record<string, string[]>; advisories: unknown[] };
/** The day `days` after the list's date, YYYY-MM-DD (the check's clock, --now). */
const dayAfterList = (days: number) => new Date(Date.parse(`${LIST.updated}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
/** What an offline run must never say: it is not a live source. */
const LIVE_CLAIM = /\b0 known vulnerabilities\b/;

describe('dependency vulnerability check (scripts/audit-deps.js)', function () {
  this.timeout(90_000);
  let dir: string;
  const write = (name: string, lock: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(lock));
    return file;
  };
  /** The package's list, its `reviewed` map widened to the fake trees' versions (or as given). */
  const listFor = (name: string, reviewed: Record<string, string[]> = { serialport: ['13.0.0'], debug: ['4.1.1', '4.4.2', '4.4.3'], ms: ['0.7.0', '2.1.3'] }, extra: Record<string, unknown> = {}) =>
    write(name, { ...LIST, reviewed, ...extra });
  const offline = (lock: string, list: string, now = dayAfterList(1)) => audit(['--offline', '--lockfile', lock, '--advisories', list, '--now', now]);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-audit-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the package's own runtime dependencies: every version reviewed, none named by the list; said to be offline, with the list's date and age", async () => {
    const run = await audit(['--offline', '--now', dayAfterList(8)]);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, new RegExp(`OFFLINE check, no live advisory source asked: package-lock\\.json \\((\\d+) runtime packages\\) against security/advisories\\.json, \\d+ advisories, reviewed ${LIST.updated} \\(8 days old\\)`));
    const count = Number(/\((\d+) runtime packages\)/.exec(run.out)![1]);
    assert.ok(count >= 2, `runtime packages counted: ${count}`);
    assert.match(run.out, /this is not a live check/);
    assert.doesNotMatch(run.out, /UNREVIEWED/, 'a runtime version the advisory list was not reviewed for');
    assert.doesNotMatch(run.out, LIVE_CLAIM);
  });

  it('a list more than 30 days old fails (stale), saying how old; 30 days still passes', async () => {
    const lock = path.join(root, 'package-lock.json');
    const list = path.join(root, 'security', 'advisories.json');
    const fresh = await offline(lock, list, dayAfterList(30));
    assert.equal(fresh.code, 0, fresh.out);
    assert.match(fresh.out, /\(30 days old\)/);
    const stale = await offline(lock, list, dayAfterList(31));
    assert.equal(stale.code, 1, stale.out);
    assert.match(stale.out, /STALE the list is 31 days old \(more than 30\)/);
    assert.match(stale.out, /FAILED: the offline list cannot vouch for this tree \(list out of date\): refresh security\/advisories\.json/);
    // The list dated 2016 of old: years stale, a failure.
    const ancient = await offline(lock, listFor('2016.json', LIST.reviewed, { updated: '2016-05-01' }), dayAfterList(1));
    assert.equal(ancient.code, 1, ancient.out);
    assert.match(ancient.out, /STALE the list is \d{4} days old/);
    assert.doesNotMatch(stale.out + ancient.out, LIVE_CLAIM);
  });

  it('fails for an installed runtime version the list was not reviewed for, naming it; passes once it is', async () => {
    const lock = write('unreviewed.json', fakeLock({ debug: '4.4.3', ms: '2.1.3' }));
    const run = await offline(lock, listFor('reviewed-old.json', { serialport: ['13.0.0'], debug: ['4.4.0'], ms: ['2.1.3'] }));
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /UNREVIEWED debug@4\.4\.3 \(node_modules\/debug\): the list was not reviewed for this version/);
    assert.match(run.out, /1 version\(s\) not reviewed/);
    assert.doesNotMatch(run.out, /UNREVIEWED (ms|serialport)/);
    const missing = await offline(lock, listFor('reviewed-none.json', { serialport: ['13.0.0'], debug: ['4.4.3'] }));
    assert.equal(missing.code, 1, missing.out);
    assert.match(missing.out, /UNREVIEWED ms@2\.1\.3/);
    const ok = await offline(lock, listFor('reviewed-new.json', { serialport: ['13.0.0'], debug: ['4.4.0', '4.4.3'], ms: ['2.1.3'] }));
    assert.equal(ok.code, 0, ok.out);
  });

  it('a list without its date or with no versions reviewed cannot be used: exit 2, never a pass', async () => {
    const lock = write('plain.json', fakeLock({ debug: '4.4.3', ms: '2.1.3' }));
    const undated = await offline(lock, listFor('undated.json', undefined, { updated: undefined }));
    assert.equal(undated.code, 2, undated.out);
    assert.match(undated.out, /"updated" must be the day the list was reviewed/);
    const namesOnly = await offline(lock, write('names-only.json', { ...LIST, reviewed: ['serialport', 'debug', 'ms'] }));
    assert.equal(namesOnly.code, 2, namesOnly.out);
    assert.match(namesOnly.out, /"reviewed" must map each runtime package to the versions reviewed/);
  });

  it("the runtime tree it walks is exactly npm's own (every lockfile entry not flagged dev)", () => {
    const { runtimeTree } = require(SCRIPT) as { runtimeTree(lock: unknown): Array<{ location: string }> };
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Lock;
    const walked = runtimeTree(lock).map((p) => p.location).sort();
    const npmsOwn = Object.entries(lock.packages).filter(([k, v]) => k !== '' && v.dev !== true).map(([k]) => k).sort();
    assert.deepEqual(walked, npmsOwn);
    assert.ok(walked.includes('node_modules/serialport'));
  });

  it('fails on a known-vulnerable runtime version (the compromised debug 4.4.2), naming the advisory', async () => {
    const run = await offline(write('bad-debug.json', fakeLock({ debug: '4.4.2', ms: '2.1.3' })), listFor('list-bad-debug.json'));
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /VULNERABLE debug@4\.4\.2 \(node_modules\/debug\): GHSA-8mgj-vmr8-frr6 critical/);
    assert.match(run.out, /FAILED: 1 known vulnerability in the offline list/);
  });

  it('finds a vulnerable copy nested under another package, and old ReDoS ranges', async () => {
    const run = await offline(write('nested.json', fakeLock({ debug: '4.1.1', ms: '2.1.3', nestedMs: '0.7.0' })), listFor('list-nested.json'));
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /VULNERABLE debug@4\.1\.1 .*GHSA-gxpj-cx7g-858c/);
    assert.match(run.out, /VULNERABLE ms@0\.7\.0 \(node_modules\/debug\/node_modules\/ms\): GHSA-3fx5-fwvr-xrjg/);
    assert.doesNotMatch(run.out, /ms@2\.1\.3/, 'the hoisted ms is shadowed by the nested one');
  });

  it('passes the same tree with fixed versions, and ignores a vulnerable copy only dev dependencies reach', async () => {
    const run = await offline(write('good.json', fakeLock({ debug: '4.4.3', ms: '2.1.3', devDebug: '4.4.2' })), listFor('list-good.json'));
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /\(3 runtime packages\)/);
    assert.match(run.out, /none of the 3 runtime package versions is named by the offline list/);
    assert.doesNotMatch(run.out, LIVE_CLAIM);
  });

  it('cannot run on an incomplete or old lockfile: exit 2, never a pass', async () => {
    const lock = fakeLock({ debug: '4.4.3', ms: '2.1.3' });
    delete lock.packages['node_modules/ms'];
    const missing = await audit(['--offline', '--lockfile', write('missing.json', lock)]);
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /lacks runtime dependencies: ms \(needed by node_modules\/debug\)/);
    const v1 = await audit(['--offline', '--lockfile', write('v1.json', { lockfileVersion: 1, dependencies: { debug: { version: '4.4.2' } } })]);
    assert.equal(v1.code, 2, v1.out);
    assert.match(v1.out, /lockfileVersion 2 or 3/);
  });

  it("npm pack ships an SBOM (prepack's last step, scripts/sbom.js): CycloneDX of exactly the runtime tree, made with no network", async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      // No registry to be had: a closed port, and npm told it is offline.
      const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true', npm_config_cache: fs.mkdtempSync(path.join(dir, 'npm-cache-')) };
      const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', '--dry-run', '--json'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    const packed = (JSON.parse(out.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    assert.ok(packed.includes('sbom.cdx.json'), `not in the tarball: ${packed.join(', ')}`);
    const sbom = JSON.parse(fs.readFileSync(path.join(root, 'sbom.cdx.json'), 'utf8')) as {
      bomFormat: string;
      metadata: { component: { name: string; version: string } };
      components: Array<{ name: string; version: string; scope: string }>;
      dependencies: Array<{ ref: string; dependsOn: string[] }>;
    };
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
    assert.equal(sbom.bomFormat, 'CycloneDX');
    assert.deepEqual(sbom.metadata.component.name, pkg.name);
    assert.deepEqual(sbom.metadata.component.version, pkg.version);
    const { runtimeTree } = require(SCRIPT) as { runtimeTree(lock: unknown): Array<{ name: string; version: string }> };
    const runtime = [...new Set(runtimeTree(JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'))).map((p) => `${p.name}@${p.version}`))].sort();
    assert.deepEqual(sbom.components.map((c) => `${c.name}@${c.version}`).sort(), runtime);
    assert.ok(sbom.components.every((c) => c.scope === 'required'));
    // No dev dependency, in the components or the graph.
    const refs = JSON.stringify(sbom.dependencies);
    for (const dev of ['mocha@', 'typescript@', 'node-red@', 'playwright-core@']) assert.ok(!refs.includes(`"${dev}`), `${dev} in the SBOM's graph`);
  });

  describe('the registry audit first, offline when it does not answer (a loopback registry)', () => {
    let server: http.Server;
    let bulk: (res: http.ServerResponse) => void;
    let asked: Record<string, string[]> | undefined;
    let registry: string;

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          if (req.method === 'POST' && req.url === '/-/npm/v1/security/advisories/bulk') {
            let body = Buffer.concat(chunks);
            if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
            asked = JSON.parse(body.toString()) as Record<string, string[]>;
            bulk(res);
          } else {
            res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
          }
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    after(() => server.close());

    it("reports the registry's advisories for runtime packages only, and fails", async () => {
      bulk = (res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ debug: [{ id: 1, url: 'https://example.test/advisory-debug', title: 'test advisory on debug', severity: 'high', vulnerable_versions: '>=4.0.0 <5.0.0', cwe: [], cvss: {} }] }),
        );
      const run = await audit([], { npm_config_registry: registry, npm_config_cache: fs.mkdtempSync(path.join(dir, 'npm-cache-')) });
      assert.equal(run.code, 1, run.out);
      assert.match(run.out, /registry audit \(npm audit --omit=dev\)/);
      assert.match(run.out, /VULNERABLE debug \(high\): test advisory on debug/);
      assert.ok(asked !== undefined && 'serialport' in asked, 'the runtime tree was sent');
      assert.ok(!('mocha' in asked!), 'a dev dependency was sent');
    });

    it('says so and runs the offline check when the audit endpoint refuses (405, as registry.npmjs.org does here)', async () => {
      bulk = (res) => res.writeHead(405, { allow: 'GET,HEAD' }).end();
      asked = undefined;
      const run = await audit(['--now', dayAfterList(1)], { npm_config_registry: registry, npm_config_cache: fs.mkdtempSync(path.join(dir, 'npm-cache-')) });
      assert.equal(run.code, 0, run.out);
      assert.ok(asked !== undefined, 'the bulk endpoint was asked');
      assert.match(run.out, /audit endpoint did not answer \(.+\); running the offline lockfile check/);
      assert.match(run.out, new RegExp(`OFFLINE check, no live advisory source asked: .* reviewed ${LIST.updated} \\(1 day old\\)`));
      assert.doesNotMatch(run.out, LIVE_CLAIM);
    });
  });
});
