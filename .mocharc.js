'use strict';
// The whole suite (npm test, npm run test:leg): every dist/test/*.test.js, run
// in parallel, one file per worker at a time. The files that take longest go
// first so that none starts late and holds the run up at its end: the order
// comes from each file's measured time (scripts/test/durations.js). (The fast
// tier alone: .mocharc.unit.json.)
const fs = require('node:fs');
const path = require('node:path');
const { longestFirst } = require('./scripts/test/durations');

const dir = path.join(__dirname, 'dist', 'test');
const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => path.join(dir, f)) : [];

// `npx mocha dist/test/x.test.js` runs that file alone (mocha adds the files
// named on its command line to the configured spec instead of replacing it).
const named = process.argv.slice(2).some((a) => /\.test\.js$/.test(a));

module.exports = {
  spec: named ? [] : longestFirst(all),
  timeout: 30000,
  exit: true,
  reporter: 'spec',
  parallel: true,
  // Three at a time on this 2-core machine: the files mostly wait (on terminals' time-outs, reconnects,
  // browsers, child processes): a leg used about a third of the two cores with two at a time. Four at a time
  // made browser and pty tests flaky under load. WONDER_TEST_JOBS=2 to go back on a busier machine.
  jobs: Number(process.env.WONDER_TEST_JOBS) || 3,
};
