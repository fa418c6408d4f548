'use strict';
// A Node.js of a given major version for a test leg: this machine's own when
// it is that major and at least the package's oldest supported version
// (MIN_NODE: node:sqlite unflagged), else the npm registry's `node` package
// (node@22, node@24, node@26) installed with npm into .cache/node/<major>/
// and reused by later runs.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { SetupError } = require('./system-packages');

const root = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(root, '.cache', 'node');

/** The oldest Node the package runs on (package.json engines.node). */
const MIN_NODE = '22.13.0';

/** True when version `v` ("22.13.1") is MIN_NODE or later. */
function supported(v) {
  const [a, b, c] = v.split('.').map(Number);
  const [x, y, z] = MIN_NODE.split('.').map(Number);
  return a !== x ? a > x : b !== y ? b > y : c >= z;
}

function versionOf(nodeBin) {
  const r = spawnSync(nodeBin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim().replace(/^v/, '') : undefined;
}

/** Returns { bin, version, source } for Node `major`, installing it into the cache when needed. */
function ensureNode(major, log) {
  if (process.versions.node.split('.')[0] === String(major) && supported(process.versions.node)) {
    return { bin: process.execPath, version: process.versions.node, source: 'this machine' };
  }
  const dir = path.join(cacheDir, String(major));
  const bin = path.join(dir, 'node_modules', '.bin', 'node');
  const cached = fs.existsSync(bin) ? versionOf(bin) : undefined;
  if (cached !== undefined && cached.split('.')[0] === String(major) && supported(cached)) {
    return { bin, version: cached, source: `.cache/node/${major}` };
  }
  log(`Node ${major}: installing the npm registry's node@${major} into .cache/node/${major}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel', 'error', `node@${major}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const version = r.status === 0 && fs.existsSync(bin) ? versionOf(bin) : undefined;
  if (version === undefined || version.split('.')[0] !== String(major)) {
    throw new SetupError(`Could not install Node ${major} from the npm registry (npm install node@${major} into ${dir} ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`})`);
  }
  return { bin, version, source: `.cache/node/${major} (npm node@${major})` };
}

module.exports = { MIN_NODE, ensureNode, supported, versionOf };
