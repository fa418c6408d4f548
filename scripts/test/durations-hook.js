'use strict';
// A mocha root-hook plugin (the runner requires it, scripts/test/mocha-leg.js):
// how long each test file took, from its first hook to its last, appended as
// "seconds name" to the file WONDER_TEST_DURATIONS names. In parallel mode each
// file runs as its own root suite in a worker, so these hooks wrap one file.
const fs = require('node:fs');
const path = require('node:path');
const { LINES_ENV } = require('./durations');

let started = 0;

exports.mochaHooks = {
  beforeAll() {
    started = Date.now();
  },
  afterAll() {
    const out = process.env[LINES_ENV];
    const suite = this.test && this.test.parent;
    const file = suite && (suite.file || (suite.suites.find((s) => s.file) || {}).file);
    if (!out || !file) return;
    fs.appendFileSync(out, `${((Date.now() - started) / 1000).toFixed(1)} ${path.basename(file)}\n`);
  },
};
