import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { openPrivateAppend } from './private-files';

const writeAsync = promisify(fs.write);
const fsyncAsync = promisify(fs.fsync);

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

/**
 * Appends settled entries a compaction drops to their months' archives
 * (0600, never through a symbolic link), each fsync'd before this resolves:
 * the journal may be rewritten without them only after.
 */
export async function archiveEntries(file: string, entries: ReadonlyArray<{ openedAt: string }>): Promise<void> {
  const byMonth = new Map<string, string[]>();
  for (const e of entries) {
    const month = archiveMonth(e.openedAt);
    let lines = byMonth.get(month);
    if (lines === undefined) byMonth.set(month, (lines = []));
    lines.push(`${JSON.stringify(e)}\n`);
  }
  for (const [month, lines] of byMonth) {
    const fd = openPrivateAppend(journalArchiveFile(file, month));
    try {
      // A line torn by a power cut during an earlier append: start on a fresh line.
      const { size } = fs.fstatSync(fd);
      let text = lines.join('');
      if (size > 0) {
        const last = Buffer.alloc(1);
        const rfd = fs.openSync(journalArchiveFile(file, month), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          fs.readSync(rfd, last, 0, 1, size - 1);
        } finally {
          fs.closeSync(rfd);
        }
        if (last[0] !== 0x0a) text = `\n${text}`;
      }
      await writeAsync(fd, text);
      await fsyncAsync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
