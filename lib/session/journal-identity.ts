/**
 * The journal follows the terminal's own serial number. Until a terminal's SN
 * is known its journal is named for where it is reached (port, host, cloud
 * device: see terminalIdentity); once known, it is `journal-sn-<SN>.jsonl`, so
 * a USB adapter that comes back under another path finds its open payments.
 *
 * - `terminal-identities.json` in the journals' directory maps each place to
 *   the SN last seen there: a restart opens the SN journal before the first
 *   answer.
 * - Moving a journal into the SN journal appends the entries the SN journal
 *   lacks (or holds in an older state), open ones first, fsyncs, and only then
 *   removes the old file: a crash in between leaves both, and the next move
 *   appends nothing twice (entries are keyed, the newer state wins).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { journalFileName } from './factory';
import { journalKey, type JournalEntry } from './journal';
import { appendPrivateDurably, readPrivateFile, writePrivateFileAtomic } from './private-files';

/** The map's file in the journals' directory. */
export const IDENTITY_MAP_FILE = 'terminal-identities.json';

/** A device SN as a terminal reports it, if it is one (printable, 1 to 64 characters); else undefined. */
export function deviceSnOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const sn = value.trim();
  return sn.length > 0 && sn.length <= 64 && /^[\x21-\x7e]+$/.test(sn) ? sn : undefined;
}

/** A terminal's identity once its SN is known: its journal is `journal-sn-<SN>.jsonl`. */
export function snIdentity(sn: string): string {
  return `sn-${sn}`;
}

/** Where each terminal identity (port, host, cloud device) last had which SN. */
export interface IdentityMapEntry {
  sn: string;
  /** ISO time it was last seen there. */
  seenAt: string;
}

function mapFile(dir: string): string {
  return path.join(dir, IDENTITY_MAP_FILE);
}

/** The whole map (empty when there is none or it cannot be read: the journals then start under their place's name). */
export function readIdentityMap(dir: string): Record<string, IdentityMapEntry> {
  try {
    const raw = readPrivateFile(mapFile(dir), 1 << 20);
    if (raw === undefined) return {};
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, IdentityMapEntry> = {};
    for (const [identity, value] of Object.entries(parsed as Record<string, unknown>)) {
      const sn = deviceSnOf((value as Partial<IdentityMapEntry> | null)?.sn);
      if (sn !== undefined) out[identity] = { sn, seenAt: String((value as IdentityMapEntry).seenAt ?? '') };
    }
    return out;
  } catch {
    return {};
  }
}

/** The SN last seen at this identity, if any. */
export function knownSn(dir: string, identity: string): string | undefined {
  return readIdentityMap(dir)[identity]?.sn;
}

/** Records that `identity` has `sn` now (atomically: temporary file, fsync, rename). */
export function rememberSn(dir: string, identity: string, sn: string): void {
  const map = readIdentityMap(dir);
  if (map[identity]?.sn === sn) return;
  map[identity] = { sn, seenAt: new Date().toISOString() };
  writePrivateFileAtomic(mapFile(dir), `${JSON.stringify(map, null, 1)}\n`);
}

/** The latest state of each entry of a journal file (a torn or foreign line is skipped). */
export function latestEntries(file: string): Map<string, JournalEntry> {
  const out = new Map<string, JournalEntry>();
  let text: string;
  try {
    text = readPrivateFile(file, 1 << 30)?.toString('utf8') ?? '';
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (e !== null && typeof e.referenceID === 'string' && typeof e.action === 'string') out.set(journalKey(e.action, e.referenceID), e);
    } catch {
      // a torn line
    }
  }
  return out;
}

/** Whether `a` is a later state of the same entry than `b`: settled beats open, then the later change. */
function newer(a: JournalEntry, b: JournalEntry): boolean {
  if ((a.state === 'open') !== (b.state === 'open')) return a.state !== 'open';
  return (a.closedAt ?? a.openedAt) > (b.closedAt ?? b.openedAt);
}

/**
 * Appends to the journal file `to` every entry of `from` it lacks or holds in
 * an older state, open ones first, with `terminal` renamed from `fromTerminal`
 * to `toTerminal`; written and fsync'd before it returns. The caller holds
 * `to`'s lock (no Journal has it open) and `from` is not written meanwhile.
 * Returns the number of entries appended.
 */
export function mergeJournalEntries(from: Iterable<JournalEntry>, to: string, rename: { fromTerminal: string; toTerminal: string }): number {
  const present = latestEntries(to);
  const open: string[] = [];
  const settled: string[] = [];
  for (const e of from) {
    const have = present.get(journalKey(e.action, e.referenceID));
    if (have !== undefined && !newer(e, have)) continue;
    const moved = e.terminal === rename.fromTerminal ? { ...e, terminal: rename.toTerminal } : e;
    (e.state === 'open' ? open : settled).push(`${JSON.stringify(moved)}\n`);
  }
  if (open.length + settled.length === 0) return 0;
  appendPrivateDurably(to, open.join('') + settled.join(''));
  return open.length + settled.length;
}

/** Removes a journal file that has been merged elsewhere (and its directory entry, durably). */
export function retireJournalFile(file: string): void {
  fs.rmSync(file, { force: true });
  try {
    const dfd = fs.openSync(path.dirname(file), fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // A file system that cannot fsync a directory: the removal still happened.
  }
}

/** The journal file of a terminal identity (place or `sn-<SN>`) in `dir`. */
export function journalPathOf(dir: string, identity: string): string {
  return path.join(dir, journalFileName(identity));
}
