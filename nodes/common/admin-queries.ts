import { entryResult, type JournalQuery } from '../../lib/session';
import type { JournalEntry } from '../../lib/ledger';
import type { JournalSource } from './ledger-readers-temporary';
import type { JournalParams } from './admin-params';
import { csvOf, newestEntries, terminalLabel, totalsOf, type TotalsView } from './journal-answers';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/*
 * The admin API's answers (see journal-answers: one journal at a time, a
 * turn of the event loop between journals).
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

export type { TotalsView } from './journal-answers';

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
    ...terminalLabel(t),
    ...(e.outcome?.rrn !== undefined ? { rrn: e.outcome.rrn } : {}),
  };
}

/** GET /wonder-ecr/journal's answer: the matching entries, newest first, at most `limit`, and how many matched. */
export async function journalRows(source: JournalSource, params: JournalParams): Promise<{ count: number; truncated: boolean; entries: JournalRow[] }> {
  const { count, entries } = await newestEntries(source.sources(params), query(params, true), params.limit);
  return { count, truncated: count > params.limit, entries: entries.map(({ e, t }) => rowOf(e, t)) };
}

/** Totals per journal identity and currency, each row with its deployed terminal's id and name. */
export async function journalTotalsFor(source: JournalSource, params: JournalParams): Promise<TotalsView[]> {
  const names = new Map(registeredTerminals().map((t) => [t.identity, t]));
  // A deployed terminal's journal is one terminal, whatever name its older entries carry.
  return totalsOf(source.sources(params), query(params, false), (reader, row) => reader.terminal?.identity ?? row.terminal, (terminal) => names.get(terminal));
}

/** The CSV of the period's payments (every one, oldest first: a spreadsheet's order). */
export function journalCsvFor(source: JournalSource, params: JournalParams): Promise<string> {
  return csvOf(source.sources(params), query(params, true));
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
