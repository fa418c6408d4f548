#!/usr/bin/env node
'use strict';
/*
 * `npm run sbom` (and `prepack`): the package's software bill of materials,
 * CycloneDX JSON, in sbom.cdx.json (shipped in the tarball: package.json
 * `files`). Made by `npm sbom` from package-lock.json (no network), then kept
 * to the runtime tree, what `npm install --omit=dev` installs, as
 * scripts/audit-deps.js walks it: `npm sbom --omit=dev` leaves out runtime
 * packages that dev dependencies share (debug, ms), so it is not used.
 *
 *   node scripts/sbom.js [--out FILE]
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { runtimeTree } = require('./audit-deps');

const root = path.resolve(__dirname, '..');

/** npm itself: the one running this script (npm run), else the one on PATH. */
function npmCommand() {
  const execpath = process.env.npm_execpath;
  if (execpath && /npm-cli\.js$/.test(execpath)) return { cmd: process.execPath, pre: [execpath] };
  return { cmd: process.platform === 'win32' ? 'npm.cmd' : 'npm', pre: [] };
}

/** The CycloneDX document of `npm sbom`, kept to the runtime tree of the lockfile. */
function runtimeSbom(full, lock, pkg) {
  const runtime = new Set(runtimeTree(lock).map((p) => `${p.name}@${p.version}`));
  const rootRef = full.metadata.component['bom-ref'];
  const components = full.components
    .filter((c) => runtime.has(`${c.name}@${c.version}`))
    .filter((c, i, all) => all.findIndex((o) => o['bom-ref'] === c['bom-ref']) === i)
    .map((c) => ({ ...c, scope: 'required', properties: (c.properties || []).filter((p) => p.name !== 'cdx:npm:package:development') }));
  const kept = new Set([rootRef, ...components.map((c) => c['bom-ref'])]);
  const missing = [...runtime].filter((ref) => !components.some((c) => c['bom-ref'] === ref));
  if (missing.length > 0) throw new Error(`npm sbom left out runtime packages: ${missing.join(', ')}`);
  return {
    ...full,
    // npm sbom names the root component after its folder: the package's own name instead.
    metadata: { ...full.metadata, component: { ...full.metadata.component, name: pkg.name, version: pkg.version } },
    components,
    dependencies: (full.dependencies || []).filter((d) => kept.has(d.ref)).map((d) => ({ ...d, dependsOn: (d.dependsOn || []).filter((r) => kept.has(r)) })),
  };
}

function main() {
  const args = process.argv.slice(2);
  const out = args[0] === '--out' && args[1] ? path.resolve(args[1]) : path.join(root, 'sbom.cdx.json');
  const { cmd, pre } = npmCommand();
  const run = spawnSync(cmd, [...pre, 'sbom', '--sbom-format=cyclonedx', '--package-lock-only'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    console.error(`sbom: npm sbom failed (${run.error ? run.error.message : `exit ${run.status}`}): ${run.stderr}`);
    return 1;
  }
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const sbom = runtimeSbom(JSON.parse(run.stdout), lock, pkg);
  fs.writeFileSync(out, `${JSON.stringify(sbom, null, 2)}\n`);
  // On stderr: npm pack --json prints its answer on stdout after this script.
  console.error(`sbom: ${path.relative(process.cwd(), out) || out}: CycloneDX ${sbom.specVersion}, ${sbom.components.length} runtime components of ${pkg.name}@${pkg.version}`);
  return 0;
}

if (require.main === module) process.exitCode = main();

module.exports = { runtimeSbom };
