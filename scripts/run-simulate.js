#!/usr/bin/env node
'use strict';
// `npm run simulate`: the deterministic simulation (dist/scripts/simulate.js, docs/simulation.md)
// under a Node the package supports: this machine's own when it is new enough, else the npm
// registry's node@24 in .cache/node/24 (as `npm run test:unit` does). Arguments go to it.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ensureNode, supported } = require('./test/node-install');

const root = path.resolve(__dirname, '..');
const node = supported(process.versions.node) ? { bin: process.execPath } : ensureNode(24, (line) => process.stderr.write(`${line}\n`));
const child = spawn(node.bin, [path.join(root, 'dist', 'scripts', 'simulate.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
