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

describe('dependency vulnerability check (scripts/audit-deps.js)', function () {
  this.timeout(90_000);
  let dir: string;
  const write = (name: string, lock: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(lock));
    return file;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-audit-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the package's own runtime dependencies have no known vulnerability (offline lockfile check)", async () => {
    const run = await audit(['--offline']);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /offline lockfile check of package-lock\.json against \d+ advisories .*: (\d+) runtime packages, 0 known vulnerabilities/);
    const count = Number(/: (\d+) runtime packages/.exec(run.out)![1]);
    assert.ok(count >= 2, `runtime packages counted: ${count}`);
    assert.doesNotMatch(run.out, /not yet reviewed/, 'a runtime package the advisory list was not reviewed for');
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
    const run = await audit(['--offline', '--lockfile', write('bad-debug.json', fakeLock({ debug: '4.4.2', ms: '2.1.3' }))]);
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /VULNERABLE debug@4\.4\.2 \(node_modules\/debug\): GHSA-8mgj-vmr8-frr6 critical/);
    assert.match(run.out, /1 known vulnerability/);
  });

  it('finds a vulnerable copy nested under another package, and old ReDoS ranges', async () => {
    const run = await audit(['--offline', '--lockfile', write('nested.json', fakeLock({ debug: '4.1.1', ms: '2.1.3', nestedMs: '0.7.0' }))]);
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /VULNERABLE debug@4\.1\.1 .*GHSA-gxpj-cx7g-858c/);
    assert.match(run.out, /VULNERABLE ms@0\.7\.0 \(node_modules\/debug\/node_modules\/ms\): GHSA-3fx5-fwvr-xrjg/);
    assert.doesNotMatch(run.out, /ms@2\.1\.3/, 'the hoisted ms is shadowed by the nested one');
  });

  it('passes the same tree with fixed versions, and ignores a vulnerable copy only dev dependencies reach', async () => {
    const run = await audit(['--offline', '--lockfile', write('good.json', fakeLock({ debug: '4.4.3', ms: '2.1.3', devDebug: '4.4.2' }))]);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /3 runtime packages, 0 known vulnerabilities/);
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
      const run = await audit([], { npm_config_registry: registry, npm_config_cache: fs.mkdtempSync(path.join(dir, 'npm-cache-')) });
      assert.equal(run.code, 0, run.out);
      assert.ok(asked !== undefined, 'the bulk endpoint was asked');
      assert.match(run.out, /audit endpoint did not answer \(.+\); running the offline lockfile check/);
      assert.match(run.out, /offline lockfile check .* 0 known vulnerabilities/);
    });
  });
});
