#!/usr/bin/env node
'use strict';
// `npm start`'s last step: Node-RED 5 where this Node allows it (22.9 or
// later; installed with npm ci into .cache/node-red-5/ on first use), else the
// repository's own Node-RED 4.1. Arguments go to Node-RED's red.js.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureNodeRed5 } = require('./node-red-install');

const root = path.resolve(__dirname, '..');

function runsNodeRed5(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 9);
}

function nodeRedDir() {
  if (process.env.WONDER_NODE_RED_DIR) return path.resolve(process.env.WONDER_NODE_RED_DIR);
  if (runsNodeRed5(process.versions.node)) return ensureNodeRed5(process.execPath, process.versions.node);
  return path.join(root, 'node_modules', 'node-red');
}

const dir = nodeRedDir();
const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
console.log(`Node-RED ${version} on Node ${process.versions.node}${runsNodeRed5(process.versions.node) ? '' : ' (Node-RED 5 needs Node 22.9 or later)'}`);
const child = spawn(process.execPath, [path.join(dir, 'red.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 0) : 1)));
