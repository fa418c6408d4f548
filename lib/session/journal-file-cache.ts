import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { journalArchives } from './journal-archive';
import { journalKey, type JournalEntry } from './journal';
import { parseEntry } from './journal-lines';

/*
 * Journal files read for the operator tools without holding the event loop
 * (a payment in flight waits for nothing but a slice): a file is read
 * asynchronously, its lines parsed in slices of a few milliseconds with a
 * turn of the event loop between, and kept while its size and time stay the
 * same. Read-only, no lock: only complete lines count (see JournalLines).
 */

/** The longest a slice of work holds the event loop, ms. */
export const SLICE_MS = 8;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `step` (a small bounded piece of work; false when nothing is left) in slices of about SLICE_MS, a turn of the event loop between. */
export async function inSlices(step: () => boolean): Promise<void> {
  for (;;) {
    const until = performance.now() + SLICE_MS;
    for (let i = 0; ; i++) {
      if (!step()) return;
      if ((i & 63) === 63 && performance.now() >= until) break;
    }
    await turn();
  }
}

/** Each entry's latest state, in order of last change. */
export type EntryMap = Map<string, JournalEntry>;

/** A file's entries, read asynchronously and parsed in slices; undefined when there is no file. */
export async function readEntriesInSlices(file: string): Promise<EntryMap | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let buf: Buffer;
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${file} is not a regular file`);
    buf = await handle.readFile();
  } finally {
    await handle.close();
  }
  const entries: EntryMap = new Map();
  let start = 0;
  await inSlices(() => {
    const end = buf.indexOf(10, start);
    // A torn last line (or one being appended) does not count.
    if (end < 0) return false;
    const entry = end > start ? parseEntry(buf.toString('utf8', start, end)) : undefined;
    if (entry !== undefined) {
      const key = journalKey(entry.action, entry.referenceID);
      entries.delete(key);
      entries.set(key, entry);
    }
    start = end + 1;
    return true;
  });
  return entries;
}

async function signatureOf(file: string): Promise<string> {
  try {
    const s = await fs.promises.stat(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** Merges maps (later ones newer) into one, in slices. */
async function merge(maps: EntryMap[]): Promise<EntryMap> {
  const out: EntryMap = new Map();
  for (const map of maps) {
    const it = map.entries();
    await inSlices(() => {
      const next = it.next();
      if (next.done === true) return false;
      out.delete(next.value[0]);
      out.set(next.value[0], next.value[1]);
      return true;
    });
  }
  return out;
}

/** A journal's history as read from files: a signature that changes when any of them does, and the entries. */
export interface FileHistory {
  signature: string;
  entries: EntryMap;
}

/**
 * Journal files and archives read once until they change (size or time):
 * a sidebar refreshing reads a big history once. `archives(file)`: what
 * compaction moved out of a live journal (its monthly archives, older
 * first); `history(file)`: a journal no node has open, with its archives.
 */
export class JournalFileCache {
  private readonly files = new Map<string, { signature: string; read: Promise<EntryMap> }>();
  private readonly merged = new Map<string, { signature: string; read: Promise<EntryMap> }>();

  private async file(file: string): Promise<{ signature: string; entries: EntryMap }> {
    const signature = await signatureOf(file);
    let hit = this.files.get(file);
    if (hit === undefined || hit.signature !== signature) {
      const read = readEntriesInSlices(file).then((m) => m ?? new Map<string, JournalEntry>());
      this.files.set(file, (hit = { signature, read }));
      read.catch(() => this.files.get(file) === hit && this.files.delete(file));
    }
    return { signature, entries: await hit.read };
  }

  private async combined(key: string, files: string[]): Promise<FileHistory> {
    // Read in order: the journal (first in `files` when it is there) before its archives (compaction archives before it rewrites the journal).
    const parts: Array<{ signature: string; entries: EntryMap }> = [];
    for (const f of files) parts.push(await this.file(f));
    const signature = files.map((f, i) => `${f}=${parts[i]!.signature}`).join('|');
    if (parts.length === 1) return { signature, entries: parts[0]!.entries };
    let hit = this.merged.get(key);
    if (hit === undefined || hit.signature !== signature) {
      // Older archives first, the journal last: the newest state of each entry wins.
      const maps = parts.map((p) => p.entries);
      const ordered = files[0] === key ? [...maps.slice(1), maps[0]!] : maps;
      this.merged.set(key, (hit = { signature, read: merge(ordered) }));
    }
    return { signature, entries: await hit.read };
  }

  archives(journalFile: string): Promise<FileHistory> {
    return this.combined(`${journalFile}#archives`, journalArchives(journalFile).map((a) => a.file));
  }

  history(journalFile: string): Promise<FileHistory> {
    return this.combined(journalFile, [journalFile, ...journalArchives(journalFile).map((a) => a.file)]);
  }

  /** Forgets the files of journals no longer asked for (`keep` is asked with each journal's own file). */
  retain(keep: (journalFile: string) => boolean): void {
    const journalOf = (f: string) => f.replace(/#archives$/, '').replace(/\.archive-\d{4}-\d{2}\.jsonl$/, '.jsonl');
    for (const f of this.files.keys()) if (!keep(journalOf(f))) this.files.delete(f);
    for (const f of this.merged.keys()) if (!keep(journalOf(f))) this.merged.delete(f);
  }
}
