#!/usr/bin/env node
'use strict';
// `npm start`'s last step: Node-RED 5 (installed with npm ci into
// .cache/node-red-5/ on first use) on this machine's Node when the package
// supports it (22.13 or later), else on the npm registry's node@24, fetched
// into .cache/node/24 as the tests do (and said so). Arguments go to
// Node-RED's red.js.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureNodeRed5 } = require('./node-red-install');
const { ensureNode, supported } = require('./test/node-install');

const root = path.resolve(__dirname, '..');

const log = (line) => console.log(line);
const node = supported(process.versions.node) ? { bin: process.execPath, version: process.versions.node } : ensureNode(24, log);
const dir = process.env.WONDER_NODE_RED_DIR ? path.resolve(process.env.WONDER_NODE_RED_DIR) : ensureNodeRed5(node.bin, node.version, log);
const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
const fetched = node.bin === process.execPath ? '' : ` (this machine's Node ${process.versions.node} is older than 22.13: using the npm registry's node@24 in .cache/node/24)`;
console.log(`Node-RED ${version} on Node ${node.version}${fetched}`);
const child = spawn(node.bin, [path.join(dir, 'red.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 0) : 1)));
