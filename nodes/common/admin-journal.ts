import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryResult, isJournalArchive, journalArchives, journalCsv, journalTotals, queryJournal, readJournalFile, type JournalEntry, type TotalsRow } from '../../lib/session';
import type { JournalParams } from './admin-params';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/** One payment as the admin API lists it: no card data (the journal holds none), no secret. */
export interface JournalRow {
  referenceID: string;
  action: string;
  amount: string | null;
  currency: string | null;
  orgReferenceID?: string;
  /** open, approved, voided, declined or not-sent. */
  result: string;
  /** The journal's state: open, Success, Failed, NotSent. */
  state: string;
  reason: string | null;
  openedAt: string;
  closedAt: string | null;
  /** The terminal's identity in its journal (port, host, business/device). */
  terminal: string;
  /** The deployed config node it belongs to (null when no deployed terminal has that journal). */
  terminalId: string | null;
  terminalName: string | null;
  rrn?: string;
}

type Period = { from?: string; to?: string };

/** The journal files of the user directory, each read once until it changes (size or time). */
export class JournalSource {
  private readonly cache = new Map<string, { signature: string; entries: JournalEntry[] }>();

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
   * A terminal's entries: a live journal's in-memory view (the newest
   * entries, every open one), with its file and archives read as well only
   * when the period reaches further back than what memory holds.
   */
  private ofTerminal(t: RegisteredTerminal, period: Period, openOnly: boolean): JournalEntry[] {
    const journal = t.handle.journal;
    if (journal === undefined) return this.fromFile(path.resolve(t.journalFile));
    // Memory holds every open entry.
    if (openOnly) return journal.openEntries();
    const live = journal.all();
    // Compaction moves what it drops to archives: with none, memory holds every entry.
    if (journalArchives(journal.file).length === 0) return live;
    const oldest = live.reduce<string | undefined>((min, e) => (e.state !== 'open' && (min === undefined || e.openedAt < min) ? e.openedAt : min), undefined);
    if (period.from !== undefined && oldest !== undefined && period.from >= oldest) return live;
    const older = this.fromFile(path.resolve(journal.file));
    if (older.length === 0) return live;
    const keyed = new Map<string, JournalEntry>();
    for (const e of older) keyed.set(`${e.action}:${e.referenceID}`, e);
    for (const e of live) keyed.set(`${e.action}:${e.referenceID}`, e);
    return [...keyed.values()];
  }

  /** The journal files in the directory (not archives, not a compaction's temp file). */
  private files(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => /^journal-.*\.jsonl$/.test(n) && !isJournalArchive(n)).map((n) => path.resolve(this.dir, n));
  }

  /**
   * The entries a query covers: `terminal` a deployed terminal's id → its
   * journal; else every journal (deployed or not), the `terminal` then
   * matched against the entries' own terminal name by queryJournal.
   */
  entries(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): JournalEntry[] {
    const openOnly = params.state === 'open';
    const period: Period = { ...(params.from !== undefined ? { from: params.from } : {}), ...(params.to !== undefined ? { to: params.to } : {}) };
    const deployed = params.terminal === undefined ? undefined : registeredTerminal(params.terminal);
    if (deployed !== undefined) return this.ofTerminal(deployed, period, openOnly);
    const byFile = JournalSource.byFile();
    const out: JournalEntry[][] = [];
    const seen = new Set<string>();
    for (const [file, t] of byFile) {
      seen.add(file);
      out.push(this.ofTerminal(t, period, openOnly));
    }
    for (const file of this.files()) if (!seen.has(file)) out.push(this.fromFile(file));
    for (const file of this.cache.keys()) if (!seen.has(file) && !fs.existsSync(file)) this.cache.delete(file);
    return out.flat();
  }
}

/** The query's `terminal` for the library: none when it named a deployed terminal (its journal was picked already). */
function entryTerminal(params: Pick<JournalParams, 'terminal'>): string | undefined {
  return params.terminal !== undefined && registeredTerminal(params.terminal) === undefined ? params.terminal : undefined;
}

/** Each journal identity's deployed terminal. */
function byIdentity(): Map<string, RegisteredTerminal> {
  return new Map(registeredTerminals().map((t) => [t.identity, t]));
}

function rowOf(e: JournalEntry, names: Map<string, RegisteredTerminal>): JournalRow {
  const t = names.get(e.terminal);
  return {
    referenceID: e.referenceID,
    action: e.action,
    amount: e.amount ?? null,
    currency: e.currency ?? null,
    ...(e.orgReferenceID !== undefined ? { orgReferenceID: e.orgReferenceID } : {}),
    result: entryResult(e),
    state: e.state,
    reason: e.outcome?.reason ?? null,
    openedAt: e.openedAt,
    closedAt: e.closedAt ?? null,
    terminal: e.terminal,
    terminalId: t?.id ?? null,
    terminalName: t?.name ?? null,
    ...(e.outcome?.rrn !== undefined ? { rrn: e.outcome.rrn } : {}),
  };
}

/** GET /wonder-ecr/journal's answer: the matching entries, newest first, at most `limit`, and how many matched. */
export function journalRows(entries: JournalEntry[], params: JournalParams): { count: number; truncated: boolean; entries: JournalRow[] } {
  const terminal = entryTerminal(params);
  const matched = queryJournal(entries, {
    ...(terminal !== undefined ? { terminal } : {}),
    ...(params.from !== undefined ? { from: params.from } : {}),
    ...(params.to !== undefined ? { to: params.to } : {}),
    ...(params.state !== undefined ? { state: params.state } : {}),
    ...(params.result !== undefined ? { result: params.result } : {}),
  });
  const names = byIdentity();
  return { count: matched.length, truncated: matched.length > params.limit, entries: matched.slice(0, params.limit).map((e) => rowOf(e, names)) };
}

/** Totals per terminal and currency, each row with its deployed terminal's id and name. */
export function journalTotalsFor(entries: JournalEntry[], params: JournalParams): Array<TotalsRow & { terminalId: string | null; terminalName: string | null }> {
  const terminal = entryTerminal(params);
  const names = byIdentity();
  return journalTotals(entries, {
    ...(terminal !== undefined ? { terminal } : {}),
    ...(params.from !== undefined ? { from: params.from } : {}),
    ...(params.to !== undefined ? { to: params.to } : {}),
  }).map((row) => ({ ...row, terminalId: names.get(row.terminal)?.id ?? null, terminalName: names.get(row.terminal)?.name ?? null }));
}

/** The CSV of the period's payments (every one, oldest first: a spreadsheet's order). */
export function journalCsvFor(entries: JournalEntry[], params: JournalParams): string {
  const terminal = entryTerminal(params);
  const matched = queryJournal(entries, {
    ...(terminal !== undefined ? { terminal } : {}),
    ...(params.from !== undefined ? { from: params.from } : {}),
    ...(params.to !== undefined ? { to: params.to } : {}),
    ...(params.state !== undefined ? { state: params.state } : {}),
    ...(params.result !== undefined ? { result: params.result } : {}),
  });
  return journalCsv(matched.reverse());
}

/** wonder-ecr-<from>-<to>.csv (dates only; "all" for an open end). */
export function csvFileName(params: Pick<JournalParams, 'from' | 'to' | 'terminal'>): string {
  const day = (iso: string | undefined) => (iso === undefined ? 'all' : iso.slice(0, 10));
  return `wonder-ecr-${day(params.from)}-${day(params.to)}.csv`;
}
