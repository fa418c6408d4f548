'use strict';
// Node-RED 5 (scripts/node-red-5: package.json and its lock) installed with
// `npm ci` under a given Node into .cache/node-red-5/node<major>/, for the test
// legs on Node 22 and 24 and for `npm start` on Node >= 22.9. Reused while the
// lock and the Node version stay the same; installed afresh otherwise.
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'scripts', 'node-red-5');

/** Returns the node-red package folder under .cache for `nodeBin` (Node `nodeVersion`). */
function ensureNodeRed5(nodeBin, nodeVersion, log = (line) => process.stderr.write(`${line}\n`)) {
  const major = nodeVersion.split('.')[0];
  const dir = path.join(root, '.cache', 'node-red-5', `node${major}`);
  const nodeRed = path.join(dir, 'node_modules', 'node-red');
  const lock = fs.readFileSync(path.join(source, 'package-lock.json'));
  const stamp = `${crypto.createHash('sha256').update(lock).digest('hex')} node ${nodeVersion}\n`;
  const stampFile = path.join(dir, '.installed');
  if (fs.existsSync(path.join(nodeRed, 'red.js')) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return nodeRed;

  log(`Node-RED 5: npm ci (scripts/node-red-5) under Node ${nodeVersion} into ${path.relative(root, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(source, f), path.join(dir, f));
  // npm runs under the Node it installs for (first on PATH), so engines are checked against it.
  const env = { ...process.env, PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH ?? ''}` };
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !fs.existsSync(path.join(nodeRed, 'red.js'))) {
    throw new Error(`Could not install Node-RED 5 into ${dir} (npm ci ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`})`);
  }
  fs.writeFileSync(stampFile, stamp);
  return nodeRed;
}

module.exports = { ensureNodeRed5 };
