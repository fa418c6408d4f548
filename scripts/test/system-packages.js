'use strict';
// The system programs the tests need, and installing the missing ones with
// apt-get where this user may (root, or sudo without a password). Where it
// may not, it stops with one message naming the packages and the command.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Program on PATH → the Debian/Ubuntu package that brings it, and why. */
const NEEDED = [
  { program: 'socat', pkg: 'socat', why: 'pseudo-terminals for the serial tests' },
  { program: 'udevadm', pkg: 'udev', why: 'serial port listing' },
  { program: 'chromium', pkg: 'chromium', why: 'the editor test' },
  { program: 'openssl', pkg: 'openssl', why: 'test certificates' },
];

/** The full path of a program on PATH, or undefined. */
function which(program, envPath = process.env.PATH ?? '') {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, program);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function missing() {
  return NEEDED.filter((n) => which(n.program) === undefined);
}

/** How to run apt-get here: [] as root, ['sudo', '-n'] with password-less sudo, or undefined. */
function privilege() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  if (which('sudo') === undefined) return undefined;
  const probe = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 });
  return probe.status === 0 ? ['sudo', '-n'] : undefined;
}

class SetupError extends Error {}

function installCommand(pkgs) {
  return `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

function refusal(absent, reason, how) {
  const lines = absent.map((n) => `  ${n.program} (package ${n.pkg}): ${n.why}`);
  return new SetupError(`The tests need programs this machine lacks:\n${lines.join('\n')}\n${reason}. ${how}:\n  ${installCommand(absent.map((n) => n.pkg))}`);
}

function run(argv, log) {
  const [cmd, ...args] = argv;
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) throw new SetupError(`${argv.join(' ')} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new SetupError(`${argv.join(' ')} failed (exit ${result.status ?? result.signal})`);
  log(`  done: ${argv.join(' ')}`);
}

/**
 * Makes sure every program the tests need is on PATH, installing the missing
 * packages when allowed. Throws a SetupError (its message is for the user)
 * when they are missing and cannot be installed here.
 */
function ensureSystemPackages(log = (line) => process.stderr.write(`${line}\n`)) {
  const absent = missing();
  if (absent.length === 0) return { installed: [] };
  if (which('apt-get') === undefined) {
    throw refusal(absent, 'There is no apt-get on PATH (not Debian/Ubuntu), so npm test cannot install them', "Install them with this system's package manager, then run npm test again; on Debian/Ubuntu that is");
  }
  const sudo = privilege();
  if (sudo === undefined) throw refusal(absent, 'npm test may not install them (not root, and no sudo without a password)', 'Install them, then run npm test again');
  const pkgs = absent.map((n) => n.pkg);
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  log(`Installing the system packages the tests need: ${pkgs.join(' ')} (apt-get update, then apt-get install -y --no-install-recommends ${pkgs.join(' ')})`);
  run([...sudo, ...env, 'apt-get', 'update'], log);
  run([...sudo, ...env, 'apt-get', 'install', '-y', '--no-install-recommends', ...pkgs], log);
  const still = missing();
  if (still.length > 0) throw new SetupError(`apt-get ran, but these are still not on PATH: ${still.map((n) => n.program).join(', ')}`);
  return { installed: pkgs };
}

module.exports = { NEEDED, SetupError, ensureSystemPackages, which };
