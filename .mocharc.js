'use strict';
// The whole suite (npm test, npm run test:leg): every dist/test/*.test.js, run
// in parallel, one file per worker at a time. The files that take longest go
// first so that none starts late and holds the run up at its end; the rest
// follow in name order. (The fast tier alone: .mocharc.unit.json.)
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, 'dist', 'test');
// Longest first (seconds alone on this 2-core machine, roughly).
const LONGEST_FIRST = [
  'faults', // 50
  'editor-sidebar', // 45 (an 11 s wait proves no refresh while hidden)
  'strict-decoding-sweep-responses', // 32 of CPU
  'editor-examples', // 20
  'diagnostics-line', // 21
  'editor-pair', // 17
  'strict-decoding-sweep-requests', // 17 of CPU
  'nodes', // 14
  'status', // 12
  'trace', // 13
  'cli', // 10
  'examples-flows', // 7
  'outcome-session', // 6
  'easycard-cli', // 5
  'restart', // 5
  'audit-deps', // 5
  'soak', // 5
].map((name) => path.join(dir, `${name}.test.js`));

const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => path.join(dir, f)).sort() : [];
const first = LONGEST_FIRST.filter((f) => all.includes(f));

// `npx mocha dist/test/x.test.js` runs that file alone (mocha adds the files
// named on its command line to the configured spec instead of replacing it).
const named = process.argv.slice(2).some((a) => /\.test\.js$/.test(a));

module.exports = {
  spec: named ? [] : [...first, ...all.filter((f) => !first.includes(f))],
  timeout: 30000,
  exit: true,
  reporter: 'spec',
  parallel: true,
  // Two at a time on this 2-core machine: four at a time made browser and pty tests flaky under load.
  jobs: 2,
};
