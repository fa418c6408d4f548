import * as fs from 'node:fs';
import * as path from 'node:path';
import { isJournalArchive, journalArchives, journalKey, PeriodView, readJournalFile, withArchives, type Journal, type JournalCursor, type JournalEntry } from '../../lib/session';
import type { JournalParams } from './admin-params';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

type Period = { from?: string; to?: string };

/** One journal a query covers: the deployed terminal whose journal it is (none for a file no node has open), and its reader. */
export interface JournalReader {
  terminal?: RegisteredTerminal;
  read: () => JournalEntry[];
  /** The period kept up to date from the journal's changes (a live journal's), to answer from instead of read(). */
  view?: () => PeriodView;
}

/** Periods kept up to date at most (50 terminals × a few days looked at), the least recently asked dropped first. */
const MAX_VIEWS = 400;

function modifiedBefore(file: string, ms: number): boolean {
  try {
    return fs.statSync(file).mtimeMs < ms;
  } catch {
    return true;
  }
}

/** Consecutive entries last changed before a period that end the scan of a live journal's newest end. */
const OUT_OF_ORDER = 64;

/** The journal files of the user directory, each read once until it changes (size or time). */
export class JournalSource {
  private readonly cache = new Map<string, { signature: string; entries: JournalEntry[] }>();
  private readonly views = new Map<string, { journal: Journal; cursor: JournalCursor; view: PeriodView }>();

  constructor(private readonly dir: string) {}

  /** The deployed terminal whose journal is this file, when one is deployed. */
  private static byFile(): Map<string, RegisteredTerminal> {
    return new Map(registeredTerminals().map((t) => [path.resolve(t.handle.journal?.file ?? t.journalFile), t]));
  }

  /**
   * A journal no node has open, and its archives, read without taking them
   * over; kept while none of the files changes (size or time), so a sidebar
   * refreshing reads a big journal once, whatever period each request asks.
   */
  private fromFile(file: string): JournalEntry[] {
    const parts: string[] = [];
    for (const f of [file, ...journalArchives(file).map((a) => a.file)]) {
      try {
        const s = fs.statSync(f);
        parts.push(`${f}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${f}:missing`);
      }
    }
    const signature = parts.join('|');
    const hit = this.cache.get(file);
    if (hit !== undefined && hit.signature === signature) return hit.entries;
    const entries = readJournalFile(file);
    this.cache.set(file, { signature, entries });
    return entries;
  }

  /**
   * A terminal's entries. A live journal is read from memory: for a period,
   * only its newest end (the in-memory view is in order of last change, so
   * the scan stops at the first entry last changed well before the period:
   * a refresh costs the day's entries, not the journal's size), with the
   * transactions its voids act on; the archives compaction wrote are read
   * only when the period reaches back past what memory holds.
   */
  private ofTerminal(t: RegisteredTerminal, period: Period, openOnly: boolean, archived: (file: string) => boolean): JournalEntry[] {
    const journal = t.handle.journal;
    if (journal === undefined) return this.fromFile(path.resolve(t.journalFile));
    // Memory holds every open entry.
    if (openOnly) return journal.openEntries();
    const live = journal.all();
    // Compaction moves what it drops to archives: with none, memory holds every entry.
    if (archived(journal.file)) {
      const oldest = live.reduce<string | undefined>((min, e) => (e.state !== 'open' && (min === undefined || e.openedAt < min) ? e.openedAt : min), undefined);
      if (period.from === undefined || oldest === undefined || period.from < oldest) return withArchives(journal.file, live, period);
    }
    if (period.from === undefined) return live;
    // Last changed (closed, or opened) before this cannot have opened in the period; an hour's margin for the clock.
    const cutoff = new Date(Date.parse(period.from) - 3_600_000).toISOString();
    // The file's order is the order of writing: a line out of time order (a clock set back) is tolerated, a run of older ones ends the scan.
    const out: JournalEntry[] = [];
    for (let i = live.length - 1, older = 0; i >= 0 && older < OUT_OF_ORDER; i--) {
      const e = live[i]!;
      if ((e.closedAt ?? e.openedAt) < cutoff) older++;
      else {
        older = 0;
        out.push(e);
      }
    }
    // A void is counted at the amount of what it voided, whenever that was.
    for (const e of out) {
      if (e.action !== 'Void') continue;
      const target = journal.byReference(e.referenceID);
      if (target !== undefined && !out.includes(target)) out.push(target);
    }
    return out;
  }

  /**
   * A live journal's period (its entries and totals), kept up to date: the
   * changes since the last ask folded in, so a refresh costs what changed,
   * not the period's size. Built from ofTerminal's entries (with what the
   * archives hold for the period) at first, and again when the journal was
   * swapped (identity) or compacted, or the ask came too long after.
   */
  private periodView(t: RegisteredTerminal, journal: Journal, period: Period, terminal: string | undefined, archived: (file: string) => boolean): PeriodView {
    const key = `${path.resolve(journal.file)}\u0000${period.from ?? ''}\u0000${period.to ?? ''}\u0000${terminal ?? ''}`;
    const known = this.views.get(key);
    this.views.delete(key);
    if (known !== undefined && known.journal === journal) {
      const changes = journal.changes.since(known.cursor);
      if (changes !== undefined) {
        known.view.apply(changes.entries);
        known.cursor = changes.cursor;
        this.views.set(key, known);
        return known.view;
      }
    }
    const cursor = journal.changes.cursor;
    const seed = this.ofTerminal(t, period, false, archived);
    // Transactions of voids that only the archives held stay known.
    const seeded = new Map(seed.map((e) => [journalKey(e.action, e.referenceID), e]));
    const view = new PeriodView({ ...period, ...(terminal !== undefined ? { terminal } : {}) }, (action, ref) => journal.get(action, ref) ?? seeded.get(journalKey(action, ref)));
    view.apply(seed);
    this.views.set(key, { journal, cursor, view });
    while (this.views.size > MAX_VIEWS) this.views.delete(this.views.keys().next().value!);
    return view;
  }

  /** The names in the journals' directory (none when it does not exist yet). */
  private names(): string[] {
    try {
      return fs.readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  /**
   * The journals a query covers, one reader each (a refresh reads them one
   * at a time, letting payments in flight go on between): `terminal` a
   * deployed terminal's id → its journal; else every journal (deployed or
   * not), the `terminal` then matched against the entries' own terminal name
   * by queryJournal.
   */
  sources(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): JournalReader[] {
    const openOnly = params.state === 'open';
    const period: Period = { ...(params.from !== undefined ? { from: params.from } : {}), ...(params.to !== undefined ? { to: params.to } : {}) };
    const names = this.names();
    const archived = (file: string) => {
      const prefix = `${path.basename(file).replace(/\.jsonl$/, '')}.archive-`;
      return names.some((n) => n.startsWith(prefix) && isJournalArchive(n));
    };
    const deployed = params.terminal === undefined ? undefined : registeredTerminal(params.terminal);
    // A terminal named that is not deployed: matched against the entries' own terminal name.
    const filter = deployed === undefined ? params.terminal : undefined;
    const reader = (t: RegisteredTerminal): JournalReader => {
      const journal = t.handle.journal;
      return {
        terminal: t,
        read: () => this.ofTerminal(t, period, openOnly, archived),
        ...(journal !== undefined && !openOnly ? { view: () => this.periodView(t, journal, period, filter, archived) } : {}),
      };
    };
    if (deployed !== undefined) return [reader(deployed)];
    const out: JournalReader[] = [];
    const seen = new Set<string>();
    for (const [file, t] of JournalSource.byFile()) {
      seen.add(file);
      out.push(reader(t));
    }
    const from = period.from === undefined ? undefined : Date.parse(period.from);
    for (const name of names) {
      const file = path.resolve(this.dir, name);
      if (!/^journal-.*\.jsonl$/.test(name) || isJournalArchive(name) || seen.has(file)) continue;
      // Not written since the period began (its archives were written before it): nothing in it opened in the period.
      if (from !== undefined && !openOnly && modifiedBefore(file, from)) continue;
      out.push({ read: () => this.fromFile(file) });
    }
    for (const file of this.cache.keys()) if (!seen.has(file) && !names.includes(path.basename(file))) this.cache.delete(file);
    return out;
  }

  /** All of sources() at once. */
  entries(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): JournalEntry[] {
    return this.sources(params).flatMap((s) => s.read());
  }
}
