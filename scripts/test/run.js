#!/usr/bin/env node
'use strict';
// `npm test`: (1) the system packages the tests need (installed with apt-get
// where allowed, else one message and exit before any test), (2) each leg's
// Node and Node-RED (.cache/), (3) the build, (4) mocha once per leg, then a
// summary per leg (also written to test-results/legs.json). Fails if any does.
//
//   npm test                               every leg (22-4.1, 22, 24, 26: scripts/test/legs.js)
//   npm run test:leg -- 26                 one leg (its id)
//   npm run test:leg -- 22-4.1 dist/test/editor.test.js    one leg, some files
//   WONDER_TEST_LEGS=22,26 npm test        some legs
//   npm test -- --system-only              only step 1
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { LEGS, prepareLeg, selectLegs } = require('./legs');
const { runMocha } = require('./mocha-leg');
const { SetupError, ensureSystemPackages } = require('./system-packages');

const root = path.resolve(__dirname, '..', '..');
const log = (line) => process.stderr.write(`${line}\n`);

function parseArgs(argv) {
  const out = { legs: [], files: [], systemOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--system-only') out.systemOnly = true;
    else if (a === '--leg') {
      if (argv[i + 1] === undefined) throw new SetupError(`--leg needs a leg: ${LEGS.map((l) => l.id).join(', ')}`);
      out.legs.push(...argv[++i].split(','));
    } else if (a.startsWith('--')) throw new SetupError(`unknown option ${a} (options: --leg ID, --system-only; other arguments are test files)`);
    else out.files.push(a);
  }
  if (out.legs.length === 0 && process.env.WONDER_TEST_LEGS) out.legs = process.env.WONDER_TEST_LEGS.split(',').map((s) => s.trim()).filter(Boolean);
  return out;
}

function minutes(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

async function main() {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  const legs = selectLegs(args.legs);

  const { installed } = ensureSystemPackages(log);
  log(`System packages: socat, udevadm, chromium and openssl present${installed.length ? ` (installed ${installed.join(' ')})` : ''}`);
  if (args.systemOnly) return 0;

  const prepared = legs.map((leg) => {
    try {
      return prepareLeg(leg, log);
    } catch (err) {
      throw err instanceof SetupError ? err : new SetupError(`leg ${leg.id}: ${err.message}`);
    }
  });
  const setupSeconds = (Date.now() - started) / 1000;

  log('Building (scripts/build.js)');
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
  } catch {
    log('\nThe build failed (its errors are above): no test was run.');
    return 1;
  }

  const results = [];
  for (const leg of prepared) {
    log(`\n=== leg ${leg.id}: Node-RED ${leg.nodeRedVersion} on Node ${leg.nodeVersion} (${leg.nodeSource}) ===`);
    const r = await runMocha(leg, args.files);
    const ok = r.status === 0 && r.failing === 0 && r.pending === 0 && r.passing > 0;
    results.push({ leg: leg.id, node: leg.nodeVersion, nodeRed: leg.nodeRedVersion, ok, ...r, seconds: Math.round(r.seconds) });
  }

  const lines = results.map(
    (r) => `  leg ${r.leg}  Node ${r.node.padEnd(8)} Node-RED ${r.nodeRed.padEnd(7)} ${r.ok ? 'pass' : 'FAIL'}  ${r.passing} passing, ${r.failing} failing, ${r.pending} pending  ${minutes(r.seconds)}`,
  );
  const total = (Date.now() - started) / 1000;
  // Each failing leg's failures again, just above the summary, so that the output's end names them.
  for (const r of results.filter((x) => x.failures)) log(`\nleg ${r.leg}: ${r.failures}`);
  log(`\nTest legs (set-up ${minutes(setupSeconds)}, total ${minutes(total)}):\n${lines.join('\n')}`);
  if (results.some((r) => r.pending > 0)) log('A pending (skipped) test fails its leg: no test may be skipped.');
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'test-results', 'legs.json'), `${JSON.stringify({ setupSeconds: Math.round(setupSeconds), totalSeconds: Math.round(total), legs: results }, null, 2)}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof SetupError) {
      log(`\nnpm test stopped before running any test:\n${err.message}`);
      process.exit(1);
    }
    log(err && err.stack ? err.stack : String(err));
    process.exit(1);
  },
);
