#!/usr/bin/env node
'use strict';
// `npm run test:unit`: the fast tier (.mocharc.unit.json) under a Node the
// package supports: this machine's own when it is new enough, else the npm
// registry's node@24 in .cache/node/24 (installed on first use, as the test
// legs do). Arguments go to mocha.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ensureNode, supported } = require('./node-install');

const root = path.resolve(__dirname, '..', '..');
const log = (line) => process.stderr.write(`${line}\n`);

const node = supported(process.versions.node) ? { bin: process.execPath, version: process.versions.node } : ensureNode(24, log);
if (node.bin !== process.execPath) log(`test:unit runs on Node ${node.version} (.cache/node/24): this machine's Node ${process.versions.node} is older than the package supports`);
const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
const env = { ...process.env, PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}` };
const child = spawn(node.bin, [mocha, '--config', path.join(root, '.mocharc.unit.json'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
