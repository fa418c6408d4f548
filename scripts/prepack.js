#!/usr/bin/env node
'use strict';
// `npm pack` / `npm publish` run this first (package.json "prepack"), so that a
// tarball made from a clean clone (no dist/) holds the compiled package:
//   1. build: scripts/build.js (compiles; places each node's editor HTML,
//      locales and icons beside its compiled .js, where Node-RED looks);
//   2. prune: removes from the shipped folders (dist/lib, dist/nodes) any file
//      that is not of a kind the package ships (a test, a stray file);
//   3. check: every node and plugin package.json names is there with its
//      editor HTML and its locales, and the library's entry point.
// package.json "files" is the allowlist of what goes into the tarball (it
// leaves out source maps and the nodes' .d.ts files); everything else in dist/
// (dist/test, dist/bench, dist/scripts, the .tsbuildinfo) stays out.
//
//   4. sbom: scripts/sbom.js writes sbom.cdx.json (CycloneDX, the runtime
//      dependency tree), which "files" ships.
// More steps chain in STEPS below, in order.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const LOCALES = ['en-US', 'zh-TW', 'zh-CN'];
/** The folders of dist/ the tarball takes (package.json "files"). */
const SHIPPED = ['dist/lib', 'dist/nodes'];
/** Kinds of file those folders ship: compiled code, type declarations, editor HTML, message catalogs, icons. */
const SHIPPED_KIND = /\.(js|js\.map|d\.ts|html|json|svg|png)$/;
/** Never shipped, whatever its kind. */
const NOT_SHIPPED = /(^|\/)(test|tests|__tests__|fixtures|helpers)\/|\.(test|spec)\.(js|d\.ts|js\.map)$|\.tsbuildinfo$/;

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

function build() {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
}

function prune() {
  const removed = [];
  for (const dir of SHIPPED) {
    for (const file of walk(path.join(root, dir))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      if (SHIPPED_KIND.test(rel) && !NOT_SHIPPED.test(rel)) continue;
      fs.rmSync(file);
      removed.push(rel);
    }
  }
  if (removed.length > 0) process.stderr.write(`prepack: removed what the package does not ship: ${removed.join(', ')}\n`);
}

function check() {
  const missing = [];
  const need = (rel) => {
    if (!fs.existsSync(path.join(root, rel))) missing.push(rel);
  };
  need(pkg.main);
  for (const bin of Object.values(pkg.bin ?? {})) need(bin);
  const red = pkg['node-red'];
  for (const file of [...Object.values(red.nodes), ...Object.values(red.plugins ?? {})]) {
    need(file);
    need(file.replace(/\.js$/, '.html'));
  }
  for (const file of Object.values(red.nodes)) {
    const name = path.basename(file, '.js');
    for (const lang of LOCALES) need(path.posix.join(path.posix.dirname(file), 'locales', lang, `${name}.json`));
  }
  if (missing.length > 0) throw new Error(`prepack: the build left out ${missing.join(', ')}`);
}

const STEPS = [
  ['build', build],
  ['prune', prune],
  ['check', check],
  // The software bill of materials (sbom.cdx.json, in "files"), after the check: it describes what ships.
  // Its report goes to stderr: `npm pack --json` prints its answer on stdout.
  ['sbom', () => execFileSync(process.execPath, [path.join(root, 'scripts', 'sbom.js')], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'] })],
];

for (const [name, step] of STEPS) {
  try {
    step();
  } catch (err) {
    process.stderr.write(`prepack step "${name}" failed: ${err.message}\n`);
    process.exit(1);
  }
}
