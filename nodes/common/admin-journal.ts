import * as fs from 'node:fs';
import * as path from 'node:path';
import { inSlices, isJournalArchive, JournalFileCache, journalKey, PeriodView, periodTest, type Journal, type JournalCursor, type JournalEntry, type JournalLookup, type TotalsOptions } from '../../lib/session';
import type { JournalParams } from './admin-params';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

type Period = { from?: string; to?: string };

/** One journal a query covers: the deployed terminal whose journal it is (none for a file no node has open), and its readers. */
export interface JournalReader {
  terminal?: RegisteredTerminal;
  /** Its entries for the period (with the transactions its voids act on): for a CSV, or the open payments of a live journal. */
  read: () => Promise<JournalEntry[]>;
  /** The period kept up to date (see JournalSource): totals and lists answered from it. */
  view?: () => Promise<PeriodView>;
}

/** Periods kept at most (50 terminals × a few days looked at), the least recently asked dropped first. */
const MAX_VIEWS = 400;
/**
 * Entries kept in all periods together, at most (about 35 MB a 100,000): a
 * flow that asks for a rolling period ("the last 7 days" from now) makes a new
 * one at every ask; without this bound they would fill the heap.
 */
const MAX_VIEW_ENTRIES = 250_000;

function modifiedBefore(file: string, ms: number): boolean {
  try {
    return fs.statSync(file).mtimeMs < ms;
  } catch {
    return true;
  }
}

/** Consecutive entries last changed before a period that end the scan of a live journal's newest end. */
const OUT_OF_ORDER = 64;

/** The entries of a live journal's memory that may have opened since `from`, and the transactions their voids act on. */
function newestEnd(journal: Journal, live: JournalEntry[], from: string): JournalEntry[] {
  // Last changed (closed, or opened) before this cannot have opened in the period; an hour's margin for the clock.
  const cutoff = new Date(Date.parse(from) - 3_600_000).toISOString();
  // The order is the order of writing: a line out of time order (a clock set back) is tolerated, a run of older ones ends the scan.
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
  const have = new Set(out);
  for (const e of out) {
    if (e.action !== 'Void') continue;
    const target = journal.byReference(e.referenceID);
    if (target !== undefined && !have.has(target)) {
      have.add(target);
      out.push(target);
    }
  }
  return out;
}

/** A period kept: of a live journal (folded in its changes up to `cursor`) or of files (as of their signature). */
interface Slot {
  source: Journal | string;
  cursor?: JournalCursor;
  ready: Promise<PeriodView>;
  /** Entries its view holds, once built. */
  size?: number;
}

/** Builds a view from `entries`, the ones it wants folded in a few hundred at a time, a turn of the event loop between slices. */
async function seedView(options: TotalsOptions, lookup: JournalLookup, sources: Array<Iterable<JournalEntry>>, only?: (e: JournalEntry) => boolean): Promise<PeriodView> {
  const view = new PeriodView(options, lookup);
  const inPeriod = periodTest(options);
  const wanted = (e: JournalEntry) => inPeriod(e.openedAt) && (only === undefined || only(e));
  const batch: JournalEntry[] = [];
  for (const entries of sources) {
    const it = entries[Symbol.iterator]();
    await inSlices(() => {
      const next = it.next();
      if (next.done !== true && (options.terminal === undefined || next.value.terminal === options.terminal) && wanted(next.value)) batch.push(next.value);
      if (batch.length >= 256 || (next.done === true && batch.length > 0)) view.apply(batch.splice(0));
      return next.done !== true;
    });
  }
  return view;
}

/**
 * The journals of the user directory, for the admin API. Totals and lists
 * come from periods kept up to date (PeriodView): a live journal's changes
 * since the last ask are folded in, so a refresh costs what changed, not
 * the period; files (a journal no node has open, archives) are read
 * asynchronously, parsed in slices, and kept until they change (size or
 * time). No step holds the event loop for more than a slice (SLICE_MS).
 */
export class JournalSource {
  private readonly files = new JournalFileCache();
  private readonly views = new Map<string, Slot>();
  private readonly maxViewEntries: number;

  constructor(
    private readonly dir: string,
    options: { maxViewEntries?: number } = {},
  ) {
    this.maxViewEntries = options.maxViewEntries ?? MAX_VIEW_ENTRIES;
  }

  /** Entries held in the periods kept (built ones). */
  get heldEntries(): number {
    let n = 0;
    for (const slot of this.views.values()) n += slot.size ?? 0;
    return n;
  }

  /** The deployed terminal whose journal is this file, when one is deployed. */
  private static byFile(): Map<string, RegisteredTerminal> {
    return new Map(registeredTerminals().map((t) => [path.resolve(t.handle.journal?.file ?? t.journalFile), t]));
  }

  private keep(key: string, slot: Slot): void {
    if (this.views.get(key) !== slot) {
      // A view that could not be built (a file unreadable, say) is not kept: the next ask tries again.
      slot.ready.then(
        (view) => {
          slot.size = view.size;
          this.trim();
        },
        () => this.views.get(key) === slot && this.views.delete(key),
      );
    }
    this.views.delete(key);
    this.views.set(key, slot);
    this.trim();
  }

  /** Drops the least recently asked periods past MAX_VIEWS, or while they hold more than maxViewEntries (the newest is always kept). */
  private trim(): void {
    while (this.views.size > MAX_VIEWS) this.views.delete(this.views.keys().next().value!);
    let held = this.heldEntries;
    for (const [key, slot] of this.views) {
      if (held <= this.maxViewEntries || this.views.size <= 1) break;
      held -= slot.size ?? 0;
      this.views.delete(key);
    }
  }

  /** Whether a period reaches back past what a live journal holds in memory (compaction archived the settled entries that changed least recently). */
  private static needsArchives(journal: Journal, period: Period, archived: boolean): boolean {
    if (!archived) return false;
    if (period.from === undefined) return true;
    let oldest: string | undefined;
    for (const e of journal.all()) if (e.state !== 'open' && (oldest === undefined || e.openedAt < oldest)) oldest = e.openedAt;
    return oldest === undefined || period.from < oldest;
  }

  /** A live journal's period: built from memory (and its archives when the period reaches back into them), then its changes folded in at each ask. */
  private async liveView(journal: Journal, period: Period, filter: string | undefined, archived: boolean): Promise<PeriodView> {
    const key = `${path.resolve(journal.file)}\u0000${period.from ?? ''}\u0000${period.to ?? ''}\u0000${filter ?? ''}`;
    const options: TotalsOptions = { ...period, ...(filter !== undefined ? { terminal: filter } : {}) };
    for (let attempt = 0; ; attempt++) {
      let slot = this.views.get(key);
      if (slot === undefined || slot.source !== journal) {
        // The cursor and the snapshot of memory at the same moment (before any await).
        const cursor = journal.changes.cursor;
        const live = journal.all();
        const needed = JournalSource.needsArchives(journal, period, archived);
        const ready = (async () => {
          // With archives, they are read (once, kept) even for a period memory holds: a void today of a sale archived is counted at its amount.
          const archives = archived ? (await this.files.archives(path.resolve(journal.file))).entries : undefined;
          const lookup: JournalLookup = (action, ref) => journal.get(action, ref) ?? archives?.get(journalKey(action, ref));
          return seedView(options, lookup, [...(archives !== undefined && needed ? [archives.values()] : []), live]);
        })();
        slot = { source: journal, cursor, ready };
        this.keep(key, slot);
      }
      const view = await slot.ready;
      const changes = journal.changes.since(slot.cursor!);
      if (changes !== undefined) {
        view.apply(changes.entries);
        slot.cursor = changes.cursor;
        slot.size = view.size;
        this.keep(key, slot);
        return view;
      }
      // Compacted (or too far behind) meanwhile: start over; compaction moves entries, it changes none, so a third time answers as it is.
      if (this.views.get(key) === slot) this.views.delete(key);
      if (attempt >= 2) return view;
    }
  }

  /** A journal no node has open (with its archives): its period as of the files now (`openOnly`: its open payments alone, for a list). */
  private async fileView(file: string, period: Period, filter: string | undefined, openOnly: boolean): Promise<PeriodView> {
    const key = `${file}\u0000${period.from ?? ''}\u0000${period.to ?? ''}\u0000${filter ?? ''}${openOnly ? '\u0000open' : ''}`;
    const history = await this.files.history(file);
    let slot = this.views.get(key);
    if (slot === undefined || slot.source !== history.signature) {
      const options: TotalsOptions = { ...period, ...(filter !== undefined ? { terminal: filter } : {}) };
      slot = { source: history.signature, ready: seedView(options, (action, ref) => history.entries.get(journalKey(action, ref)), [history.entries.values()], openOnly ? (e) => e.state === 'open' : undefined) };
    }
    this.keep(key, slot);
    return slot.ready;
  }

  /**
   * A live journal's entries for a period (a CSV). From memory: only its
   * newest end (the in-memory view is in order of last change, so the scan
   * stops at the first run of entries last changed well before the period),
   * with the transactions its voids act on; with its archives when the
   * period reaches back past what memory holds.
   */
  private async liveEntries(journal: Journal, period: Period, archived: boolean): Promise<JournalEntry[]> {
    const live = journal.all();
    if (!JournalSource.needsArchives(journal, period, archived)) return period.from === undefined ? live : newestEnd(journal, live, period.from);
    const all = new Map((await this.files.archives(path.resolve(journal.file))).entries);
    for (const e of live) {
      const key = journalKey(e.action, e.referenceID);
      all.delete(key);
      all.set(key, e);
    }
    return [...all.values()];
  }

  /** The names in the journals' directory (none when it does not exist yet). */
  private names(): string[] {
    try {
      return fs.readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  /** What sources() and readersOf() share for one query: its period, and the journals with archives. */
  private context(params: Pick<JournalParams, 'from' | 'to' | 'state'>, names: string[]): { openOnly: boolean; period: Period; archived: (file: string) => boolean } {
    const period: Period = { ...(params.from !== undefined ? { from: params.from } : {}), ...(params.to !== undefined ? { to: params.to } : {}) };
    const archived = (file: string) => {
      const prefix = `${path.basename(file).replace(/\.jsonl$/, '')}.archive-`;
      return names.some((n) => n.startsWith(prefix) && isJournalArchive(n));
    };
    return { openOnly: params.state === 'open', period, archived };
  }

  /** A journal no node has open (or a deployed terminal's not open): read from its files. */
  private ofFile(file: string, period: Period, filter: string | undefined, openOnly: boolean): JournalReader {
    return {
      read: async () => [...(await this.files.history(file)).entries.values()],
      view: () => this.fileView(file, openOnly ? {} : period, filter, openOnly),
    };
  }

  /** A deployed terminal's journal: from memory where it is open (the file a writer appends to is not read again), else from its files. */
  private reader(t: RegisteredTerminal, ctx: ReturnType<JournalSource['context']>, filter: string | undefined): JournalReader {
    const { openOnly, period, archived } = ctx;
    const journal = t.handle.journal;
    if (journal === undefined) return { terminal: t, ...this.ofFile(path.resolve(t.journalFile), period, filter, openOnly) };
    // Memory holds every open entry.
    if (openOnly) return { terminal: t, read: () => Promise.resolve(journal.openEntries()) };
    return { terminal: t, read: () => this.liveEntries(journal, period, archived(journal.file)), view: () => this.liveView(journal, period, filter, archived(journal.file)) };
  }

  /** The journals of these deployed terminals, one reader each (the wonder-journal node asks about deployed terminals only). */
  readersOf(terminals: RegisteredTerminal[], params: Pick<JournalParams, 'from' | 'to' | 'state'>): JournalReader[] {
    const ctx = this.context(params, this.names());
    return terminals.map((t) => this.reader(t, ctx, undefined));
  }

  /**
   * The journals a query covers, one reader each (a refresh reads them one
   * at a time, letting payments in flight go on between): `terminal` a
   * deployed terminal's id → its journal; else every journal (deployed or
   * not), the `terminal` then matched against the entries' own terminal name
   * by queryJournal.
   */
  sources(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): JournalReader[] {
    const names = this.names();
    const ctx = this.context(params, names);
    const { openOnly, period } = ctx;
    const deployed = params.terminal === undefined ? undefined : registeredTerminal(params.terminal);
    // A terminal named that is not deployed: matched against the entries' own terminal name.
    const filter = deployed === undefined ? params.terminal : undefined;
    if (deployed !== undefined) return [this.reader(deployed, ctx, filter)];
    const out: JournalReader[] = [];
    const seen = new Set<string>();
    for (const [file, t] of JournalSource.byFile()) {
      seen.add(file);
      out.push(this.reader(t, ctx, filter));
    }
    const from = period.from === undefined ? undefined : Date.parse(period.from);
    for (const name of names) {
      const file = path.resolve(this.dir, name);
      if (!/^journal-.*\.jsonl$/.test(name) || isJournalArchive(name) || seen.has(file)) continue;
      // Not written since the period began (its archives were written before it): nothing in it opened in the period.
      if (from !== undefined && !openOnly && modifiedBefore(file, from)) continue;
      out.push(this.ofFile(file, period, filter, openOnly));
    }
    this.files.retain((file) => seen.has(file) || names.includes(path.basename(file)));
    return out;
  }

  /** All of sources() at once. */
  async entries(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const s of this.sources(params)) for (const e of await s.read()) out.push(e);
    return out;
  }
}
