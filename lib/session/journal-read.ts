import * as fs from 'node:fs';
import { journalArchives } from './journal-archive';
import { journalKey, type JournalEntry } from './journal';
import { periodBounds, type JournalPeriod } from './journal-time';

/**
 * Reads a journal without taking it over: opened read-only, no lock, nothing
 * truncated or rewritten. Only complete lines count: a torn last line (a
 * power cut) or one being appended right now is left out. A file being
 * compacted meanwhile is safe: the journal is read before its archives, and
 * compaction writes the archive (fsync'd) before it replaces the journal,
 * so an entry is always in one or the other.
 */
function readLines(file: string, into: Map<string, JournalEntry>): void {
  let text: string;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY);
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break; // an unfinished last line: torn, or being written
    if (end > start) {
      let entry: JournalEntry | undefined;
      try {
        entry = JSON.parse(text.slice(start, end)) as JournalEntry;
      } catch {
        entry = undefined;
      }
      if (entry !== null && typeof entry === 'object' && typeof entry.referenceID === 'string' && typeof entry.action === 'string') {
        const key = journalKey(entry.action, entry.referenceID);
        into.delete(key);
        into.set(key, entry);
      }
    }
    start = end + 1;
  }
}

/** The archive months a period needs ("YYYY-MM" bounds, inclusive). */
function monthRange(period: JournalPeriod | undefined): { first?: string; last?: string } {
  if (period === undefined) return {};
  const { from, to } = periodBounds(period);
  const out: { first?: string; last?: string } = {};
  if (from !== undefined) out.first = new Date(from).toISOString().slice(0, 7);
  if (to !== undefined) out.last = new Date(to - 1).toISOString().slice(0, 7);
  return out;
}

/**
 * The latest state of each entry of a journal file and of its archives
 * (only the months `period` needs, when given; the entries themselves are
 * not filtered: see queryJournal). A missing file reads as empty.
 */
export function readJournalFile(file: string, period?: JournalPeriod): JournalEntry[] {
  const { first, last } = monthRange(period);
  const current = new Map<string, JournalEntry>();
  readLines(file, current);
  const all = new Map<string, JournalEntry>();
  for (const archive of journalArchives(file)) {
    if ((first !== undefined && archive.month < first) || (last !== undefined && archive.month > last)) continue;
    readLines(archive.file, all);
  }
  // The journal's lines are newer than its archives' for the same key.
  for (const [key, entry] of current) {
    all.delete(key);
    all.set(key, entry);
  }
  return [...all.values()];
}
