import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where compaction keeps the settled entries it drops from a journal: next
 * to it, one file per month of the entries' `openedAt` (UTC), e.g.
 * `journal-T1.jsonl` → `journal-T1.archive-2026-11.jsonl`.
 */

const ARCHIVE = /\.archive-(\d{4}-\d{2})\.jsonl$/;

function base(file: string): string {
  return file.endsWith('.jsonl') ? file.slice(0, -'.jsonl'.length) : file;
}

/** The archive file of a journal for a month ("2026-11"). */
export function journalArchiveFile(file: string, month: string): string {
  return `${base(file)}.archive-${month}.jsonl`;
}

/** Whether a file name is a journal's archive (not a journal itself). */
export function isJournalArchive(name: string): boolean {
  return ARCHIVE.test(name);
}

/** The month ("YYYY-MM", UTC) an entry opened at is archived under; the current month when the time is unreadable. */
export function archiveMonth(openedAt: string | undefined): string {
  if (typeof openedAt === 'string' && /^\d{4}-\d{2}-\d{2}T.*Z$/.test(openedAt)) return openedAt.slice(0, 7);
  const ms = typeof openedAt === 'string' ? Date.parse(openedAt) : NaN;
  return new Date(Number.isFinite(ms) ? ms : Date.now()).toISOString().slice(0, 7);
}

/** A journal's archive files, oldest month first. */
export function journalArchives(file: string): Array<{ month: string; file: string }> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(base(file))}.archive-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ month: string; file: string }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = ARCHIVE.exec(name);
    if (m !== null && name === `${prefix}${m[1]}.jsonl`) out.push({ month: m[1]!, file: path.join(dir, name) });
  }
  return out.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
}
