import type { Response } from 'express';
import type { LedgerReader, ReadQuery, ReadRow } from '../../lib/ledger';
import type { JournalParams } from './admin-params';
import { Deployed, eachPage, terminalLabel, terminalsOf, totalsOf, type TotalsView } from './ledger-answers';
import { registeredTerminal, type RegisteredTerminal } from './terminal-registry';

/*
 * The admin API's answers from the ledger: each a query on the reader worker;
 * lists and CSVs written to the response a page at a time, as the client
 * takes them (nothing held beyond a page).
 */

/** One payment as the admin API lists it: no card data (the ledger holds none), no secret. */
export interface JournalRow {
  referenceID: string;
  action: string;
  amount: string | null;
  currency: string | null;
  orgReferenceID?: string;
  /** open, approved, voided, declined or not-sent. */
  result: string;
  /** The payment's state: open, Success, Failed, NotSent. */
  state: string;
  reason: string | null;
  openedAt: string;
  closedAt: string | null;
  /** The terminal's name on the payment (port, host, business/device). */
  terminal: string;
  /** The deployed config node it belongs to (null when no deployed terminal has it). */
  terminalId: string | null;
  terminalName: string | null;
  rrn?: string;
}

export type { TotalsView } from './ledger-answers';

/** The ledger query of the admin API's parameters: `terminal` a deployed terminal's id → its payments; else the name on the payments. */
export function readQueryOf(params: JournalParams, withFilters: boolean): ReadQuery {
  const q: ReadQuery = {};
  if (params.from !== undefined) q.from = Date.parse(params.from);
  if (params.to !== undefined) q.to = Date.parse(params.to);
  if (params.terminal !== undefined) {
    const deployed = registeredTerminal(params.terminal);
    q.terminals = deployed !== undefined ? terminalsOf([deployed]) : { configNodes: [], names: [params.terminal] };
  }
  if (withFilters && params.state !== undefined) q.state = params.state;
  if (withFilters && params.result !== undefined) q.result = params.result;
  return q;
}

export function rowOf({ entry: e, result }: ReadRow, t: RegisteredTerminal | undefined): JournalRow {
  return {
    referenceID: e.referenceID,
    action: e.action,
    amount: e.amount ?? null,
    currency: e.currency ?? null,
    ...(e.orgReferenceID !== undefined ? { orgReferenceID: e.orgReferenceID } : {}),
    result,
    state: e.state,
    reason: e.outcome?.reason ?? null,
    openedAt: e.openedAt,
    closedAt: e.closedAt ?? null,
    terminal: e.terminal,
    ...terminalLabel(t),
    ...(e.outcome?.rrn !== undefined ? { rrn: e.outcome.rrn } : {}),
  };
}

/** Writes `text`, resolving when the client can take more: false when it has gone. */
function written(res: Response, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(text)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/**
 * GET /wonder-ecr/journal's answer, streamed: `{at, count, truncated,
 * entries}` with the matching payments newest first, at most `limit`.
 */
export async function sendJournalRows(reader: LedgerReader, params: JournalParams, res: Response): Promise<void> {
  const query = readQueryOf(params, true);
  const count = await reader.ask('count', { query });
  const deployed = new Deployed();
  res.status(200).type('application/json; charset=utf-8');
  let first = true;
  if (!(await written(res, `{"at":${JSON.stringify(new Date().toISOString())},"count":${count},"truncated":${count > params.limit},"entries":[`))) return;
  await eachPage(reader, query, 'newest', Math.min(params.limit, count), (rows) => {
    let text = '';
    for (const row of rows) {
      text += `${first ? '' : ','}${JSON.stringify(rowOf(row, deployed.of(row.configNode, row.entry.terminal)))}`;
      first = false;
    }
    return written(res, text);
  });
  res.end(']}');
}

/** Totals per terminal identity and currency, each row with its deployed terminal's id and name. */
export function journalTotalsFor(reader: LedgerReader, params: JournalParams): Promise<TotalsView[]> {
  // A deployed terminal's payments are one terminal, whatever name its older payments carry.
  return totalsOf(reader, readQueryOf(params, false), (t, terminal) => ({ name: t?.identity ?? terminal, label: t }));
}

/** The CSV of the matching payments (every one, oldest first: a spreadsheet's order), streamed a page at a time. */
export async function sendJournalCsv(reader: LedgerReader, params: JournalParams, res: Response, fileName: string): Promise<void> {
  const query = readQueryOf(params, true);
  res.status(200).set('Content-Type', 'text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${fileName}"`);
  let after: [number, number] | undefined;
  for (;;) {
    const page = await reader.ask('csvPage', { query, order: 'oldest', limit: 2_000, ...(after !== undefined ? { after } : {}) });
    if (!(await written(res, page.text))) return;
    if (page.next === undefined) break;
    after = page.next;
  }
  res.end();
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
