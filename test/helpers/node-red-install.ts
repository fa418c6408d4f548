import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Which Node-RED the tests (and the bench) load. `npm test` runs each leg with
 * WONDER_NODE_RED_DIR set to that leg's node-red package folder (Node-RED 5
 * is installed under .cache/ by scripts/test/); without it, this repository's
 * own devDependency (Node-RED 4.1).
 */
export function nodeRedDir(): string {
  const fromEnv = process.env.WONDER_NODE_RED_DIR;
  if (fromEnv === undefined || fromEnv === '') return path.dirname(require.resolve('node-red/package.json'));
  const dir = path.resolve(fromEnv);
  if (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'red.js'))) {
    throw new Error(`WONDER_NODE_RED_DIR=${fromEnv} is not a node-red package folder (no package.json and red.js there)`);
  }
  return dir;
}

/** The Node-RED version the tests load. */
export function nodeRedVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(nodeRedDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Node-RED's main module (what node-red-node-test-helper's init takes). */
export function nodeRedMain(): string {
  return require.resolve(nodeRedDir());
}

/** Node-RED's red.js, to start it as a process. */
export function nodeRedScript(): string {
  return path.join(nodeRedDir(), 'red.js');
}

/** A core node module of that Node-RED, e.g. coreNode('common/25-catch.js'). */
export function coreNode(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [nodeRedDir()] }));
}
