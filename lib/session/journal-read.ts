import * as fs from 'node:fs';
import * as path from 'node:path';
import { isJournalArchive, journalArchives } from './journal-archive';
import { journalKey, type JournalEntry } from './journal';
import { JournalLines } from './journal-lines';
import { periodBounds, type JournalPeriod } from '../ledger';

/** A test of an entry's `openedAt` against a period. */
function periodTest(period: JournalPeriod): (openedAt: string | undefined) => boolean {
  const { from, to } = periodBounds(period);
  return (openedAt) => {
    const ms = typeof openedAt === 'string' ? Date.parse(openedAt) : NaN;
    return Number.isFinite(ms) && (from === undefined || ms >= from) && (to === undefined || ms < to);
  };
}

/*
 * Reading a journal without taking it over: opened read-only, no lock,
 * nothing truncated or rewritten; only complete lines count (see
 * JournalLines). A file being compacted meanwhile is safe: the journal is
 * read before its archives, and compaction writes the archive (fsync'd)
 * before it replaces the journal, so an entry is always in one or the other.
 */

/** The archive months a period needs ("YYYY-MM" bounds, inclusive). */
function monthRange(period: JournalPeriod | undefined): { first?: string; last?: string } {
  if (period === undefined) return {};
  const { from, to } = periodBounds(period);
  const out: { first?: string; last?: string } = {};
  if (from !== undefined) out.first = new Date(from).toISOString().slice(0, 7);
  if (to !== undefined) out.last = new Date(to - 1).toISOString().slice(0, 7);
  return out;
}

const hasPeriod = (p: JournalPeriod | undefined): p is JournalPeriod => p !== undefined && ((p.from ?? '') !== '' || (p.to ?? '') !== '');

/**
 * Reads the archives a period needs into `all` (older first), and returns a
 * finder of the transactions that Void entries act on: in the archives read,
 * then in the month before the period (a void is made within days of its
 * sale, before the terminal settles; a month back covers the 1st of a month).
 */
function readArchives(file: string, period: JournalPeriod | undefined, all: Map<string, JournalEntry>, lazy = false): (missing: Set<string>) => JournalEntry[] {
  const { first, last } = monthRange(period);
  const opened = hasPeriod(period) ? periodTest(period) : undefined;
  const archives = journalArchives(file);
  const read: Array<() => JournalLines | undefined> = [];
  let before: { file: string } | undefined;
  for (const archive of archives) {
    if (first !== undefined && archive.month < first) {
      before = archive;
      continue;
    }
    if (last !== undefined && archive.month > last) continue;
    if (lazy) {
      // Read only if a void's transaction is looked for.
      let lines: JournalLines | undefined | null = null;
      read.push(() => (lines === null ? (lines = JournalLines.read(archive.file)) : lines));
      continue;
    }
    const lines = JournalLines.read(archive.file);
    read.push(() => lines);
    lines?.collect(all, opened);
  }
  return (missing) => {
    const found: JournalEntry[] = [];
    const search = (lines: JournalLines | undefined) => {
      for (const key of missing) {
        if (lines?.has(key) !== true) continue;
        const entry = lines.get(key);
        if (entry !== undefined) found.push(entry);
        missing.delete(key);
      }
    };
    for (const lines of [...read].reverse()) {
      if (missing.size === 0) break;
      search(lines());
    }
    if (missing.size > 0 && before !== undefined) search(JournalLines.read(before.file));
    return found;
  };
}

/** Keys of the transactions the Void entries in `all` act on that `all` does not hold. */
function missingTargets(all: Map<string, JournalEntry>): Set<string> {
  const missing = new Set<string>();
  for (const e of all.values()) {
    if (e.action === 'Void' && !all.has(e.referenceID)) missing.add(e.referenceID);
  }
  return missing;
}

function addTargets(all: Map<string, JournalEntry>, found: JournalEntry[]): void {
  for (const e of found) {
    const key = journalKey(e.action, e.referenceID);
    if (!all.has(key)) all.set(key, e);
  }
}

/**
 * The latest state of each entry of a journal file and of its archives. With
 * a period: only the archives of its months are read, and only the entries
 * opened in it are returned (their lines picked without parsing the rest),
 * with the transactions that voids among them act on (whatever their time:
 * a void is counted at the amount of what it voided). A missing file reads
 * as empty. Callers still filter (queryJournal, journalTotals).
 */
export function readJournalFile(file: string, period?: JournalPeriod): JournalEntry[] {
  const opened = hasPeriod(period) ? periodTest(period) : undefined;
  // The journal before its archives (see above).
  const current = JournalLines.read(file);
  const all = new Map<string, JournalEntry>();
  const findTargets = readArchives(file, period, all);
  // The journal's lines are newer than its archives' for the same key.
  current?.collect(all, opened);
  const missing = missingTargets(all);
  if (missing.size > 0) {
    const found: JournalEntry[] = [];
    for (const key of missing) {
      const entry = current?.get(key);
      if (entry !== undefined) found.push(entry);
    }
    for (const e of found) missing.delete(journalKey(e.action, e.referenceID));
    addTargets(all, found);
    addTargets(all, findTargets(missing));
  }
  return [...all.values()];
}

/** A day: the margin kept between the oldest settled entry in memory and a period before archives are skipped. */
const SKIP_MARGIN_MS = 86_400_000;

/**
 * A live journal's entries (its in-memory view, `Journal.all()`, all of
 * them), with what compaction moved to its archives (as readJournalFile
 * reads them for `period`): the file a writer has open is not read again.
 *
 * Compaction archives the settled entries that changed least recently, so
 * every archived entry was opened and settled before the oldest settled
 * entry still in memory. A period that starts more than a day after that is
 * answered from memory alone (today's totals on a busy terminal); its voids'
 * transactions are still looked up in the archives when memory lacks them.
 */
export function withArchives(file: string, current: Iterable<JournalEntry>, period?: JournalPeriod): JournalEntry[] {
  const live = Array.isArray(current) ? (current as JournalEntry[]) : [...current];
  let oldestSettled = Infinity;
  for (const e of live) {
    if (e.state === 'open') continue;
    const t = Date.parse(e.closedAt ?? e.openedAt);
    if (t < oldestSettled) oldestSettled = t;
  }
  const from = hasPeriod(period) ? periodBounds(period).from : undefined;
  const memoryCovers = from !== undefined && Number.isFinite(oldestSettled) && from > oldestSettled + SKIP_MARGIN_MS;
  const all = new Map<string, JournalEntry>();
  // Covered: no archive is read unless a void's transaction is missing (only the period's month and the one before).
  const findTargets = readArchives(file, memoryCovers ? { from: new Date(from).toISOString(), to: new Date(from).toISOString() } : period, all, memoryCovers);
  for (const entry of live) {
    const key = journalKey(entry.action, entry.referenceID);
    all.delete(key);
    all.set(key, entry);
  }
  const missing = missingTargets(all);
  if (missing.size > 0) addTargets(all, findTargets(missing));
  return [...all.values()];
}

/** The payment journals in a directory (journal-*.jsonl, not their archives), by name. */
export function journalFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.startsWith('journal-') && name.endsWith('.jsonl') && !isJournalArchive(name))
    .sort()
    .map((name) => path.join(dir, name));
}
