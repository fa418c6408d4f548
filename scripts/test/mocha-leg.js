'use strict';
// Runs mocha for one prepared leg: the leg's Node first on PATH (child
// processes the tests start use it too) and WONDER_NODE_RED_DIR naming its
// Node-RED (test/helpers/node-red-install.ts). The output goes through as it
// comes; the counts are read from the spec reporter's last lines.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LINES_ENV, collect } = require('./durations');
const { which } = require('./system-packages');

const root = path.resolve(__dirname, '..', '..');

/** .mocharc.js (read after the build: it lists dist/test) with `spec` replaced by the files asked for (when any), timing each file. */
function configFor(specFiles) {
  const config = { ...require(path.join(root, '.mocharc.js')) };
  if (specFiles.length > 0) config.spec = specFiles;
  config.require = [...(config.require ?? []), path.join(__dirname, 'durations-hook.js')];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-mocha-')), 'mocharc.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

function count(text, word) {
  const all = [...text.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))];
  return all.length === 0 ? 0 : Number(all[all.length - 1][1]);
}

/** The spec reporter's failure list (from "N failing" to the end), at most 8,000 characters, for the run's summary. */
function failures(text) {
  const at = text.search(/^\s*\d+ failing\b/m);
  if (at < 0) return '';
  const list = text.slice(at).replace(/\u001b\[[0-9;]*m/g, '').trimEnd();
  return list.length > 8000 ? `${list.slice(0, 8000)}\n  …` : list;
}

/** Resolves with { status, passing, failing, pending, seconds, failures }. */
function runMocha(leg, specFiles) {
  const config = configFor(specFiles);
  const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
  const env = {
    ...process.env,
    PATH: `${path.dirname(leg.nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`,
    WONDER_NODE_RED_DIR: leg.nodeRedDir,
    // The editor test's browser: the chromium the set-up found on PATH.
    CHROMIUM_PATH: process.env.CHROMIUM_PATH || which('chromium') || '/usr/bin/chromium',
    // Each file's time (durations-hook.js), kept for the next run's order.
    [LINES_ENV]: path.join(path.dirname(config), 'durations.txt'),
  };
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(leg.nodeBin, [mocha, '--config', config], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-200_000);
    });
    let done = false;
    const finish = (status) => {
      if (done) return;
      done = true;
      collect(env[LINES_ENV]);
      fs.rmSync(path.dirname(config), { recursive: true, force: true });
      resolve({
        status,
        passing: count(tail, 'passing'),
        failing: count(tail, 'failing'),
        pending: count(tail, 'pending'),
        failures: failures(tail),
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    };
    child.on('error', (err) => {
      process.stderr.write(`cannot start mocha under ${leg.nodeBin}: ${err.message}\n`);
      finish(-1);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : -1)));
  });
}

module.exports = { runMocha };
