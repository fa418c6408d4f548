#!/usr/bin/env node
'use strict';
// Builds dist/ incrementally:
//   1. removes from dist/ what no source makes any more (a moved or deleted
//      .ts must not leave a stale .js that a test glob picks up);
//   2. compiles with `tsc --build` (its tsbuildinfo is dist/tsconfig.tsbuildinfo,
//      so only changed files and their dependants are checked and written);
//   3. places each node's editor HTML, icons and locales next to its compiled
//      .js file, where Node-RED looks for them, copying only what changed;
//   4. generated editor files (see the marked step below).
// `node scripts/build.js --clean` starts from an empty dist/.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const nodesOut = path.join(dist, 'nodes');
const buildInfo = path.join(dist, 'tsconfig.tsbuildinfo');
// The folders tsconfig.json's "include" compiles (rootDir is the repository).
const SOURCE_DIRS = ['lib', 'nodes', 'test', 'bench', 'scripts'];
// Node-RED's files beside the compiled nodes: copied, not compiled.
const NODE_ASSET_DIRS = ['icons', 'locales'];

if (process.argv.includes('--clean')) fs.rmSync(dist, { recursive: true, force: true });

/** Every file under dir (relative paths), or none when dir is missing. */
function walk(dir, rel = '') {
  const abs = path.join(dir, rel);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    return e.isDirectory() ? walk(dir, r) : [r];
  });
}

/** What tsc writes for one source .ts (relative to the repository). */
function outputsOf(source) {
  const base = source.slice(0, -'.ts'.length);
  return [`${base}.js`, `${base}.js.map`, `${base}.d.ts`];
}

// 1. Stale compiler outputs: anything in dist/<source dir> that no .ts makes.
const expected = new Set();
for (const dir of SOURCE_DIRS) {
  for (const f of walk(path.join(root, dir))) {
    if (f.endsWith('.ts') && !f.endsWith('.d.ts')) for (const o of outputsOf(path.join(dir, f))) expected.add(o);
  }
}
const assetOut = (dir) => path.join('nodes', dir);
const isAsset = (rel) => NODE_ASSET_DIRS.some((d) => rel.startsWith(assetOut(d) + path.sep)) || (path.dirname(rel) === 'nodes' && rel.endsWith('.html'));
let missing = false;
for (const dir of SOURCE_DIRS) {
  for (const f of walk(path.join(dist, dir))) {
    const rel = path.join(dir, f);
    if (isAsset(rel)) continue; // step 3 keeps these in step with their sources
    if (/\.(js|js\.map|d\.ts)$/.test(rel) && !expected.has(rel)) fs.rmSync(path.join(dist, rel));
  }
}
for (const o of expected) {
  if (!fs.existsSync(path.join(dist, o))) missing = true;
}
// tsc --build trusts its tsbuildinfo: an output removed by hand would not be
// written again, so a missing one means a full compile.
if (missing) fs.rmSync(buildInfo, { force: true });

// 2. Compile (incremental).
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--build', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
  cwd: root,
});

// 3. Editor HTML, icons and locales, copied when their content changed;
// removed from dist/nodes when their source is gone.
function sameContent(a, b) {
  if (!fs.existsSync(b)) return false;
  const sa = fs.statSync(a);
  const sb = fs.statSync(b);
  return sa.size === sb.size && fs.readFileSync(a).equals(fs.readFileSync(b));
}
function sync(from, to, files) {
  for (const f of files) {
    const src = path.join(from, f);
    const out = path.join(to, f);
    if (sameContent(src, out)) continue;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(src, out);
  }
}
fs.mkdirSync(nodesOut, { recursive: true });
const htmlFiles = fs.readdirSync(path.join(root, 'nodes')).filter((f) => f.endsWith('.html'));
sync(path.join(root, 'nodes'), nodesOut, htmlFiles);
for (const f of fs.readdirSync(nodesOut)) {
  if (f.endsWith('.html') && !htmlFiles.includes(f)) fs.rmSync(path.join(nodesOut, f));
}
for (const dir of NODE_ASSET_DIRS) {
  const files = walk(path.join(root, dir));
  sync(path.join(root, dir), path.join(nodesOut, dir), files);
  const keep = new Set(files);
  for (const f of walk(path.join(nodesOut, dir))) {
    if (!keep.has(f)) fs.rmSync(path.join(nodesOut, dir, f));
  }
}

// 4. Generated editor files (written into dist/nodes after the copies above):
// one line per generator, each a script that writes only what changed. Step 3
// removes from dist/nodes the HTML and locale files no source in nodes/ holds,
// so a generator here writes its files again when they are missing.
require('./editor-templates').writeActionNodeFiles(root, nodesOut);
