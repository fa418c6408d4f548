import { amountToMinor, entryResult, journalCsv, journalTotals, minorToAmount, queryJournal, stateMatches, type JournalEntry, type JournalQuery, type TotalsRow } from '../../lib/session';
import type { JournalReader, JournalSource } from './admin-journal';
import type { JournalParams } from './admin-params';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/*
 * The admin API's answers, computed one journal at a time with a turn of
 * the event loop between journals: a refresh of the sidebar never holds a
 * payment in flight up for longer than one journal's share of the work.
 */

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

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `each` on every journal the query covers, one at a time, with the
 * deployed terminal it belongs to (its entries may carry an older name of
 * that terminal: a port path before its serial number was known).
 */
async function eachJournal(source: JournalSource, params: JournalParams, each: (reader: JournalReader) => Promise<void>): Promise<void> {
  const readers = source.sources(params);
  for (let i = 0; i < readers.length; i++) {
    if (i > 0) await turn();
    await each(readers[i]!);
  }
}

/** The query's `terminal` for the library: none when it named a deployed terminal (its journal was picked already). */
function entryTerminal(params: Pick<JournalParams, 'terminal'>): string | undefined {
  return params.terminal !== undefined && registeredTerminal(params.terminal) === undefined ? params.terminal : undefined;
}

function query(params: JournalParams, withFilters: boolean): JournalQuery {
  const terminal = entryTerminal(params);
  return {
    ...(terminal !== undefined ? { terminal } : {}),
    ...(params.from !== undefined ? { from: params.from } : {}),
    ...(params.to !== undefined ? { to: params.to } : {}),
    ...(withFilters && params.state !== undefined ? { state: params.state } : {}),
    ...(withFilters && params.result !== undefined ? { result: params.result } : {}),
  };
}

/** Each journal identity's deployed terminal. */
function byIdentity(): Map<string, RegisteredTerminal> {
  return new Map(registeredTerminals().map((t) => [t.identity, t]));
}

function rowOf(e: JournalEntry, t: RegisteredTerminal | undefined): JournalRow {
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

const newestFirst = (a: JournalEntry, b: JournalEntry) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0);

/** GET /wonder-ecr/journal's answer: the matching entries, newest first, at most `limit`, and how many matched. */
export async function journalRows(source: JournalSource, params: JournalParams): Promise<{ count: number; truncated: boolean; entries: JournalRow[] }> {
  const q = query(params, true);
  let count = 0;
  let top: Array<{ e: JournalEntry; t: RegisteredTerminal | undefined }> = [];
  const names = byIdentity();
  const filtered = q.state !== undefined || q.result !== undefined;
  await eachJournal(source, params, async (reader) => {
    const terminal = reader.terminal;
    // A journal's period is kept up to date (see JournalSource); a live journal's open payments are read from memory.
    const view = reader.view === undefined ? undefined : await reader.view();
    const matched = view !== undefined ? view.list(params.limit, filtered ? (e) => stateMatches(e, q) : undefined) : undefined;
    const found = matched?.entries ?? queryJournal(await reader.read(), q);
    count += matched?.count ?? found.length;
    // With the list full, only what is newer than its last can enter it (a tie keeps what is there, as the sort would).
    const cut = top.length >= params.limit ? top[top.length - 1]!.e.openedAt : undefined;
    const rows: typeof top = [];
    for (const e of found) {
      // (Newest first: the rest are older still.)
      if (rows.length >= params.limit || (cut !== undefined && !(e.openedAt > cut))) break;
      rows.push({ e, t: terminal ?? names.get(e.terminal) });
    }
    if (rows.length > 0) top = top.concat(rows).sort((a, b) => newestFirst(a.e, b.e)).slice(0, params.limit);
  });
  return { count, truncated: count > params.limit, entries: top.map(({ e, t }) => rowOf(e, t)) };
}

export type TotalsView = TotalsRow & { terminalId: string | null; terminalName: string | null };

/** Adds a row of the same terminal and currency (two journals of one terminal) into `into`, exactly. */
function addRow(into: TotalsRow, row: TotalsRow): void {
  const sum = (a: string, b: string) => minorToAmount((amountToMinor(a) ?? 0n) + (amountToMinor(b) ?? 0n));
  for (const k of ['sales', 'refunds', 'voids'] as const) into[k] = { count: into[k].count + row[k].count, amount: sum(into[k].amount, row[k].amount) };
  for (const k of ['declined', 'unknown', 'unpriced'] as const) into[k] = { count: into[k].count + row[k].count };
  into.net = sum(into.net, row.net);
}

/** Totals per terminal and currency, each row with its deployed terminal's id and name. */
export async function journalTotalsFor(source: JournalSource, params: JournalParams): Promise<TotalsView[]> {
  const q = query(params, false);
  const rows = new Map<string, TotalsRow>();
  const names = byIdentity();
  await eachJournal(source, params, async (reader) => {
    const terminal = reader.terminal;
    const view = reader.view === undefined ? undefined : await reader.view();
    for (const row of view !== undefined ? view.totals() : journalTotals(await reader.read(), q)) {
      // A deployed terminal's journal is one terminal, whatever name its older entries carry.
      if (terminal !== undefined) row.terminal = terminal.identity;
      const key = `${row.terminal}\u0000${row.currency}`;
      const known = rows.get(key);
      if (known === undefined) rows.set(key, { ...row });
      else addRow(known, row);
    }
  });
  return [...rows.values()]
    .sort((a, b) => (a.terminal < b.terminal ? -1 : a.terminal > b.terminal ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
    .map((row) => ({ ...row, terminalId: names.get(row.terminal)?.id ?? null, terminalName: names.get(row.terminal)?.name ?? null }));
}

/** The CSV of the period's payments (every one, oldest first: a spreadsheet's order). */
export async function journalCsvFor(source: JournalSource, params: JournalParams): Promise<string> {
  const q = query(params, true);
  const all: JournalEntry[] = [];
  await eachJournal(source, params, async (reader) => {
    for (const e of queryJournal(await reader.read(), q)) all.push(e);
  });
  return journalCsv(all.sort(newestFirst).reverse());
}

/** The host's local date of a time. */
function localDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** wonder-ecr-<first day>-<last day>.csv (local dates; "all" for an open end; one date for one day). */
export function csvFileName(params: Pick<JournalParams, 'from' | 'to' | 'terminal'>): string {
  const first = params.from === undefined ? 'all' : localDate(Date.parse(params.from));
  const last = params.to === undefined ? 'all' : localDate(Date.parse(params.to) - 1);
  return first === last ? `wonder-ecr-${first}.csv` : `wonder-ecr-${first}-${last}.csv`;
}
