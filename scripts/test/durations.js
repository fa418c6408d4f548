'use strict';
// The suite's order: longest file first, so that none starts late and holds a
// leg up at its end (mocha runs three files at a time, .mocharc.js).
//
// Each leg the runner (mocha-leg.js) measures every file's time
// (durations-hook.js) and keeps it in test-results/durations.json; the next
// run orders by it. Where there is none yet, and always under CI (the order
// then stays the same run to run), the order comes from the checked-in
// scripts/test/durations.json. A file in neither (a new one) goes first: it
// may be long. Refresh the checked-in list from the last run:
//
//   node scripts/test/durations.js --save
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const MEASURED = path.join(root, 'test-results', 'durations.json');
const CHECKED_IN = path.join(__dirname, 'durations.json');
/** The hook appends a line per file to the file this names (set by the runner only). */
const LINES_ENV = 'WONDER_TEST_DURATIONS';

function read(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Seconds by file name (x.test.js): the last run's, else the checked-in ones. */
function durations() {
  return (!process.env.CI && read(MEASURED)) || read(CHECKED_IN) || {};
}

/** `files` (paths) longest first: unknown ones first, then by seconds, ties by name. */
function longestFirst(files) {
  const seconds = durations();
  const key = (f) => seconds[path.basename(f)] ?? Infinity;
  return [...files].sort((a, b) => key(b) - key(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Folds the hook's lines ("seconds name" per file) into test-results/durations.json; returns how many. */
function collect(linesFile) {
  let text = '';
  try {
    text = fs.readFileSync(linesFile, 'utf8');
  } catch {
    return 0;
  }
  const measured = { ...(read(MEASURED) || read(CHECKED_IN) || {}) };
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^(\d+(?:\.\d+)?) (\S+\.test\.js)$/.exec(line);
    if (m === null) continue;
    measured[m[2]] = Number(m[1]);
    n++;
  }
  if (n > 0) {
    fs.mkdirSync(path.dirname(MEASURED), { recursive: true });
    fs.writeFileSync(MEASURED, `${JSON.stringify(sorted(measured), null, 2)}\n`);
  }
  return n;
}

/** Longest first, as the file is read by a person. */
function sorted(seconds) {
  return Object.fromEntries(Object.entries(seconds).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
}

module.exports = { CHECKED_IN, LINES_ENV, MEASURED, collect, durations, longestFirst };

if (require.main === module) {
  if (process.argv[2] !== '--save') {
    process.stderr.write('usage: node scripts/test/durations.js --save   (copies test-results/durations.json to scripts/test/durations.json)\n');
    process.exit(2);
  }
  const measured = read(MEASURED);
  if (measured === undefined) {
    process.stderr.write(`no measured durations at ${MEASURED}: run npm run test:leg -- 20 first\n`);
    process.exit(1);
  }
  fs.writeFileSync(CHECKED_IN, `${JSON.stringify(sorted(measured), null, 2)}\n`);
  process.stderr.write(`${CHECKED_IN}: ${Object.keys(measured).length} files\n`);
}
