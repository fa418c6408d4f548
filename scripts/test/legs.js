'use strict';
// The test legs: which Node runs the suite against which Node-RED. Each leg's
// Node is this machine's own when it is that major (and new enough), else the
// npm registry's node@22 / node@24 / node@26 under .cache/node/. Leg 22-4.1
// runs the repository's own Node-RED 4.1 (devDependency, from npm ci); the
// others run Node-RED 5.0 installed under .cache/.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureNodeRed5 } = require('../node-red-install');
const { ensureNode } = require('./node-install');
const { SetupError } = require('./system-packages');

const root = path.resolve(__dirname, '..', '..');

const LEGS = [
  { id: '22-4.1', node: 22, nodeRed: '4.1' },
  { id: '22', node: 22, nodeRed: '5.0' },
  { id: '24', node: 24, nodeRed: '5.0' },
  { id: '26', node: 26, nodeRed: '5.0' },
];

function packageVersion(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

/** serialport's native binding (an N-API prebuild) must load under the leg's Node. */
function checkSerialport(nodeBin, nodeVersion) {
  const bindings = require.resolve('@serialport/bindings-cpp', { paths: [path.dirname(require.resolve('serialport', { paths: [root] }))] });
  const loader = path.join(path.dirname(bindings), 'load-bindings.js');
  const r = spawnSync(nodeBin, ['-e', `require(${JSON.stringify(loader)})`], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new SetupError(`serialport's native binding does not load under Node ${nodeVersion}:\n${r.stderr}`);
}

/** Installs (or finds in .cache) what a leg needs; returns the leg with its Node and Node-RED. */
function prepareLeg(leg, log) {
  const node = ensureNode(leg.node, log);
  let nodeRedDir;
  if (leg.nodeRed === '4.1') {
    nodeRedDir = path.join(root, 'node_modules', 'node-red');
    if (!fs.existsSync(path.join(nodeRedDir, 'red.js'))) throw new SetupError('node_modules/node-red is missing: run npm ci first (the README\'s test command is npm ci && npm test)');
  } else {
    nodeRedDir = ensureNodeRed5(node.bin, node.version, log);
  }
  const nodeRedVersion = packageVersion(nodeRedDir);
  if (!nodeRedVersion.startsWith(`${leg.nodeRed}.`)) throw new SetupError(`leg ${leg.id} wants Node-RED ${leg.nodeRed}, but ${nodeRedDir} holds ${nodeRedVersion}: run npm ci`);
  checkSerialport(node.bin, node.version);
  return { ...leg, nodeBin: node.bin, nodeVersion: node.version, nodeSource: node.source, nodeRedDir, nodeRedVersion };
}

/** Legs named in `ids` (all when empty); throws naming the known ids on an unknown one. */
function selectLegs(ids) {
  if (ids.length === 0) return LEGS;
  return ids.map((id) => {
    const leg = LEGS.find((l) => l.id === id);
    if (leg === undefined) throw new SetupError(`unknown test leg "${id}"; the legs are ${LEGS.map((l) => l.id).join(', ')} (Node major version; 22-4.1 is Node-RED 4.1 on Node 22)`);
    return leg;
  });
}

module.exports = { LEGS, prepareLeg, selectLegs };
