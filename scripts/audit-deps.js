#!/usr/bin/env node
'use strict';
/*
 * Checks the runtime dependencies (what `npm install --omit=dev` installs)
 * for known vulnerabilities. Exit 0: none known; 1: at least one found, or
 * the offline list cannot vouch for the tree (a version it has not reviewed,
 * or the list is more than 30 days old); 2: the check could not run
 * (unreadable lockfile or list, a dependency missing).
 *
 *   node scripts/audit-deps.js            registry audit (`npm audit --omit=dev`),
 *                                         or the offline check when the registry
 *                                         does not answer
 *   node scripts/audit-deps.js --offline  the offline check only
 *   options: --lockfile FILE  --advisories FILE  --list (print the runtime tree)
 *            --now YYYY-MM-DD (the day the list's age is counted to; default today)
 *
 * The offline check walks package-lock.json's runtime tree from the root's
 * dependencies and compares every installed version with the semver ranges
 * of security/advisories.json. It is not a live source: it never says "0
 * known vulnerabilities", only that its list (of that date) names none, and
 * it fails for a version the list's `reviewed` map does not name and for a
 * list older than MAX_AGE_DAYS.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const semver = require('semver');

const root = path.resolve(__dirname, '..');
/** An offline list older than this many days is stale: the check fails. */
const MAX_AGE_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

function parseArgs(argv) {
  const opts = { offline: false, list: false, now: new Date(), lockfile: path.join(root, 'package-lock.json'), advisories: path.join(root, 'security', 'advisories.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--offline') opts.offline = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--now') {
      opts.now = dayOf(argv[++i]);
      if (opts.now === undefined) throw new Error('--now needs a date, YYYY-MM-DD');
    }
    else if (a === '--lockfile' || a === '--advisories') {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a file`);
      opts[a.slice(2)] = path.resolve(argv[++i]);
    } else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

/** A YYYY-MM-DD day as a Date (UTC midnight); undefined when it is not one. */
function dayOf(text) {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text ? undefined : date;
}

/** Where `name` resolves from the package at `from` (npm's node_modules lookup, upwards). */
function resolveIn(packages, from, name) {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/** The runtime tree of a v2/v3 lockfile: [{ name, version, location }], sorted; throws when incomplete. */
function runtimeTree(lock) {
  if (lock === null || typeof lock !== 'object' || typeof lock.packages !== 'object' || lock.packages === null || lock.packages[''] === undefined) {
    throw new Error('the lockfile has no "packages" map (lockfileVersion 2 or 3 is needed: run npm install with npm 7 or later)');
  }
  const packages = lock.packages;
  const seen = new Map();
  const missing = [];
  const queue = [''];
  while (queue.length > 0) {
    const location = queue.shift();
    const entry = packages[location];
    const deps = [];
    const add = (obj, optional) => {
      for (const name of Object.keys(obj || {})) deps.push({ name, optional });
    };
    add(entry.dependencies, false);
    add(entry.optionalDependencies, true);
    const peerMeta = entry.peerDependenciesMeta || {};
    for (const name of Object.keys(entry.peerDependencies || {})) deps.push({ name, optional: Boolean(peerMeta[name] && peerMeta[name].optional) });
    for (const dep of deps) {
      let target = resolveIn(packages, location, dep.name);
      if (target === undefined) {
        if (!dep.optional) missing.push(`${dep.name} (needed by ${location || 'the package'})`);
        continue;
      }
      if (packages[target].link && typeof packages[target].resolved === 'string') target = packages[target].resolved;
      if (seen.has(target) || packages[target] === undefined) continue;
      const pkg = packages[target];
      const name = pkg.name || target.slice(target.lastIndexOf('node_modules/') + 'node_modules/'.length);
      seen.set(target, { name, version: String(pkg.version || ''), location: target });
      queue.push(target);
    }
  }
  if (missing.length > 0) throw new Error(`the lockfile lacks runtime dependencies: ${missing.join(', ')}`);
  return [...seen.values()].sort((a, b) => a.location.localeCompare(b.location));
}

function loadAdvisories(file) {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(data.advisories)) throw new Error(`${file}: no "advisories" list`);
  for (const a of data.advisories) {
    if (typeof a.package !== 'string' || typeof a.id !== 'string' || semver.validRange(a.vulnerable) === null) {
      throw new Error(`${file}: advisory ${JSON.stringify(a.id)} needs an id, a package and a valid "vulnerable" semver range`);
    }
  }
  if (dayOf(data.updated) === undefined) throw new Error(`${file}: "updated" must be the day the list was reviewed (YYYY-MM-DD)`);
  const reviewed = data.reviewed;
  if (reviewed === null || typeof reviewed !== 'object' || Array.isArray(reviewed) || !Object.values(reviewed).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
    throw new Error(`${file}: "reviewed" must map each runtime package to the versions reviewed, e.g. {"serialport": ["13.0.0"]}`);
  }
  return data;
}

/** The installed runtime versions the list's `reviewed` map does not name: [{ name, version, location }]. */
function unreviewedVersions(tree, reviewed) {
  return tree.filter((p) => !(Object.prototype.hasOwnProperty.call(reviewed, p.name) && reviewed[p.name].includes(p.version)));
}

/** Whole days from the list's date to `now` (negative: dated after it). */
function ageInDays(updated, now) {
  return Math.floor((now.getTime() - dayOf(updated).getTime()) / DAY_MS);
}

/** The findings of the offline check: [{ pkg, advisory }]. */
function offlineFindings(tree, advisories) {
  const findings = [];
  for (const pkg of tree) {
    for (const a of advisories) {
      if (a.package !== pkg.name) continue;
      // A version the lockfile records but semver cannot read is treated as vulnerable: unknown is not safe.
      if (semver.valid(pkg.version) === null || semver.satisfies(pkg.version, a.vulnerable, { includePrerelease: true })) findings.push({ pkg, advisory: a });
    }
  }
  return findings;
}

/** `npm audit --omit=dev --json`: { ok, vulnerabilities } or { ok: false, reason } when the registry does not answer. */
function registryAudit() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    return { ok: false, reason: run.error ? run.error.message : `npm audit printed no JSON (exit ${run.status})` };
  }
  if (report.vulnerabilities === undefined || report.error !== undefined || report.statusCode !== undefined) {
    return { ok: false, reason: report.message || (report.error && report.error.summary) || 'the audit endpoint returned an error' };
  }
  return { ok: true, vulnerabilities: Object.values(report.vulnerabilities) };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`audit-deps: ${err.message}`);
    return 2;
  }
  if (!opts.offline) {
    const audit = registryAudit();
    if (audit.ok) {
      console.log(`audit-deps: registry audit (npm audit --omit=dev): ${audit.vulnerabilities.length} vulnerable package(s)`);
      for (const v of audit.vulnerabilities) {
        const via = (v.via || []).map((x) => (typeof x === 'object' && x !== null ? `${x.title || ''} ${x.url || ''}`.trim() : `via ${x}`));
        console.log(`  VULNERABLE ${v.name} (${v.severity}): ${via.join('; ')}`);
      }
      return audit.vulnerabilities.length > 0 ? 1 : 0;
    }
    console.log(`audit-deps: the registry's audit endpoint did not answer (${audit.reason}); running the offline lockfile check`);
  }
  let tree;
  let data;
  try {
    tree = runtimeTree(JSON.parse(fs.readFileSync(opts.lockfile, 'utf8')));
    data = loadAdvisories(opts.advisories);
  } catch (err) {
    console.error(`audit-deps: ${err.message}`);
    return 2;
  }
  const findings = offlineFindings(tree, data.advisories);
  const unreviewed = unreviewedVersions(tree, data.reviewed);
  const age = ageInDays(data.updated, opts.now);
  const unreviewedAt = new Set(unreviewed.map((p) => p.location));
  if (opts.list) for (const p of tree) console.log(`  ${p.name}@${p.version}  (${p.location})${unreviewedAt.has(p.location) ? '  not reviewed' : ''}`);
  const list = path.relative(process.cwd(), opts.advisories) || opts.advisories;
  // Not a live source: what it says is only as good as the list, and says so.
  console.log(`audit-deps: OFFLINE check, no live advisory source asked: ${path.relative(process.cwd(), opts.lockfile) || opts.lockfile} (${tree.length} runtime packages) against ${list}, ${data.advisories.length} advisories, reviewed ${data.updated} (${age} day${age === 1 ? '' : 's'} old)`);
  for (const f of findings) console.log(`  VULNERABLE ${f.pkg.name}@${f.pkg.version} (${f.pkg.location}): ${f.advisory.id} ${f.advisory.severity}: ${f.advisory.title} [${f.advisory.vulnerable}] ${f.advisory.url}`);
  for (const p of unreviewed) console.log(`  UNREVIEWED ${p.name}@${p.version} (${p.location}): the list was not reviewed for this version`);
  const stale = age > MAX_AGE_DAYS;
  if (age < 0) console.log(`  STALE? the list is dated after today (${opts.now.toISOString().slice(0, 10)}): check its "updated" date`);
  if (stale) console.log(`  STALE the list is ${age} days old (more than ${MAX_AGE_DAYS}): advisories published since are not in it`);
  if (findings.length > 0) console.log(`audit-deps: FAILED: ${findings.length} known vulnerabilit${findings.length === 1 ? 'y' : 'ies'} in the offline list`);
  if (unreviewed.length > 0 || stale || age < 0) {
    console.log(`audit-deps: FAILED: the offline list cannot vouch for this tree (${[unreviewed.length > 0 ? `${unreviewed.length} version(s) not reviewed` : '', stale || age < 0 ? 'list out of date' : ''].filter(Boolean).join(', ')}): refresh ${list} (the security page in docs/, section Dependency check)`);
  }
  if (findings.length > 0 || unreviewed.length > 0 || stale || age < 0) return 1;
  console.log(`audit-deps: none of the ${tree.length} runtime package versions is named by the offline list of ${data.updated}; this is not a live check (advisories published since are not known here)`);
  return 0;
}

if (require.main === module) process.exitCode = main();

module.exports = { runtimeTree, offlineFindings, unreviewedVersions, ageInDays, resolveIn, MAX_AGE_DAYS };
