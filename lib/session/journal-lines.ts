import * as fs from 'node:fs';
import { journalKey, type JournalEntry } from './journal';

const PREFIX = '{"referenceID":"';
const ACTION = '","action":"';
const OPENED = '"openedAt":"';

/** One journal line as an entry, or undefined when it is not one (torn, damaged, another form). */
export function parseEntry(line: string): JournalEntry | undefined {
  let entry: JournalEntry | undefined;
  try {
    entry = JSON.parse(line) as JournalEntry;
  } catch {
    return undefined;
  }
  return entry !== null && typeof entry === 'object' && typeof entry.referenceID === 'string' && typeof entry.action === 'string' ? entry : undefined;
}

/**
 * A journal file's complete lines (a torn last line, or one being appended,
 * left out), indexed by entry without parsing every line: the journal writes
 * each line as `{"referenceID":"…","action":"…",…}`, so the key is read from
 * the text and only an entry's last line is parsed (a payment's "open" line
 * is superseded by its outcome's). Lines in another form are parsed at once.
 */
export class JournalLines {
  /** Each key's last line: its start offset in `text`, or the entry already parsed. */
  private readonly last = new Map<string, number | JournalEntry>();

  private constructor(private readonly text: string) {
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      if (end > start) {
        const key = this.keyAt(start, end);
        if (key !== undefined) {
          this.last.delete(key);
          this.last.set(key, start);
        } else {
          const entry = parseEntry(text.slice(start, end));
          if (entry !== undefined) {
            const k = journalKey(entry.action, entry.referenceID);
            this.last.delete(k);
            this.last.set(k, entry);
          }
        }
      }
      start = end + 1;
    }
  }

  /** Read-only, never through anything but a regular file; undefined when there is no file. */
  static read(file: string): JournalLines | undefined {
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
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return new JournalLines(text);
  }

  get size(): number {
    return this.last.size;
  }

  has(key: string): boolean {
    return this.last.has(key);
  }

  /** The entry's latest state. */
  get(key: string): JournalEntry | undefined {
    const at = this.last.get(key);
    if (at === undefined || typeof at !== 'number') return at;
    const entry = parseEntry(this.text.slice(at, this.text.indexOf('\n', at)));
    // A damaged last line (a torn archive append, mended with a newline): the latest readable one.
    return entry !== undefined && journalKey(entry.action, entry.referenceID) === key ? entry : this.slowLatest(key);
  }

  /** Every entry's latest state, or those whose openedAt passes `opened` (read from the text, parsed only when it passes). */
  collect(into: Map<string, JournalEntry>, opened?: (openedAt: string | undefined) => boolean): void {
    for (const [key, at] of this.last) {
      if (opened !== undefined) {
        const openedAt = typeof at === 'number' ? this.openedAt(at) : at.openedAt;
        if (!opened(openedAt)) continue;
      }
      const entry = typeof at === 'number' ? this.get(key) : at;
      if (entry === undefined) continue;
      into.delete(key);
      into.set(key, entry);
    }
  }

  private keyAt(start: number, end: number): string | undefined {
    const text = this.text;
    if (!text.startsWith(PREFIX, start)) return undefined;
    const q = text.indexOf('"', start + PREFIX.length);
    if (q < 0 || q >= end || text.charCodeAt(q - 1) === 92 /* \ */ || !text.startsWith(ACTION, q)) return undefined;
    const a = q + ACTION.length;
    const aEnd = text.indexOf('"', a);
    if (aEnd < 0 || aEnd >= end || text.charCodeAt(aEnd - 1) === 92) return undefined;
    return journalKey(text.slice(a, aEnd) as JournalEntry['action'], text.slice(start + PREFIX.length, q));
  }

  /** The text of `openedAt` in the line at `start` (undefined when absent: the line is parsed to see). */
  private openedAt(start: number): string | undefined {
    const end = this.text.indexOf('\n', start);
    const at = this.text.indexOf(OPENED, start);
    if (at < 0 || at > end) return parseEntry(this.text.slice(start, end))?.openedAt;
    const from = at + OPENED.length;
    const close = this.text.indexOf('"', from);
    return close < 0 || close > end ? undefined : this.text.slice(from, close);
  }

  private slowLatest(key: string): JournalEntry | undefined {
    let found: JournalEntry | undefined;
    for (const line of this.text.split('\n').slice(0, -1)) {
      const entry = parseEntry(line);
      if (entry !== undefined && journalKey(entry.action, entry.referenceID) === key) found = entry;
    }
    return found;
  }
}
