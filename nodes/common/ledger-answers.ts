import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { LEDGER_FILE_NAME, ledgerReader, totalsRows, type LedgerReader, type ReadCursor, type ReadQuery, type ReadRow, type TotalsRow } from '../../lib/ledger';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/*
 * The operator tools' answers (the admin API and sidebar, the wonder-journal
 * node) from the runtime's ledger: each one query on its reader worker (see
 * LedgerReader), lists and CSVs a page at a time with a turn of the event
 * loop between pages. Nothing is kept between asks.
 */

/** `<userDir>/wonder-ecr/ledger.db`: the runtime's ledger (see wonder-terminal). */
export function runtimeLedgerFile(RED: Pick<NodeAPI, 'settings'>): string {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
  return path.resolve(userDir, 'wonder-ecr', LEDGER_FILE_NAME);
}

/** The runtime's ledger reader: one worker, shared by the admin API and every wonder-journal node. */
export function runtimeLedgerReader(RED: Pick<NodeAPI, 'settings'>): LedgerReader {
  return ledgerReader(runtimeLedgerFile(RED));
}

/** How the tools label what they give: the deployed config node a payment belongs to (null when none deployed has it). */
export interface TerminalLabel {
  terminalId: string | null;
  terminalName: string | null;
}

export function terminalLabel(t: RegisteredTerminal | undefined): TerminalLabel {
  return { terminalId: t?.id ?? null, terminalName: t?.name ?? null };
}

export type TotalsView = TotalsRow & TerminalLabel;

/** The deployed terminals, to label rows: by config node id, else by the terminal name (identity) on the row. */
export class Deployed {
  private readonly byIdentity = new Map<string, RegisteredTerminal>();

  constructor() {
    for (const t of registeredTerminals()) if (!this.byIdentity.has(t.identity)) this.byIdentity.set(t.identity, t);
  }

  of(configNode: string | null, terminal: string): RegisteredTerminal | undefined {
    return (configNode === null ? undefined : registeredTerminal(configNode)) ?? this.byIdentity.get(terminal);
  }
}

/** A query's terminal filter for these deployed terminals: their config nodes, names (identities) and SNs. */
export function terminalsOf(terminals: readonly RegisteredTerminal[]): NonNullable<ReadQuery['terminals']> {
  return {
    configNodes: terminals.map((t) => t.id),
    names: terminals.map((t) => t.identity),
    sns: terminals.map((t) => t.handle.device.sn).filter((sn): sn is string => typeof sn === 'string' && sn !== ''),
  };
}

/**
 * Totals per terminal and currency: `nameOf` names a group's terminal and
 * the deployed terminal it is labelled with, given the deployed terminal it
 * belongs to (groups of one name and currency are added up).
 */
export async function totalsOf(
  reader: LedgerReader,
  query: ReadQuery,
  nameOf: (t: RegisteredTerminal | undefined, terminal: string) => { name: string; label: RegisteredTerminal | undefined },
): Promise<TotalsView[]> {
  const groups = await reader.ask('totals', { query });
  const deployed = new Deployed();
  const labels = new Map<string, RegisteredTerminal | undefined>();
  const rows = totalsRows(groups, (g) => {
    const { name, label } = nameOf(deployed.of(g.configNode, g.terminal), g.terminal);
    if (labels.get(name) === undefined) labels.set(name, label);
    return name;
  });
  return rows.map((row) => ({ ...row, ...terminalLabel(labels.get(row.terminal)) }));
}

/** Rows a page holds (a few milliseconds to take in). */
export const PAGE_ROWS = 1_000;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The matching payments newest first, a page at a time (each handed to
 * `each`, a turn of the event loop between pages), at most `limit`
 * (Infinity: every one). `each` returning false stops (the asker left).
 */
export async function eachPage(reader: LedgerReader, query: ReadQuery, order: 'newest' | 'oldest', limit: number, each: (rows: ReadRow[]) => boolean | Promise<boolean>): Promise<void> {
  let after: ReadCursor | undefined;
  let left = limit;
  for (let first = true; left > 0; first = false) {
    if (!first) await turn();
    const size = Math.min(PAGE_ROWS, left);
    const page = await reader.ask('page', { query, order, limit: size, ...(after !== undefined ? { after } : {}) });
    left -= page.rows.length;
    if ((await each(page.rows)) === false || page.next === undefined) return;
    after = page.next;
  }
}

/** The matching payments newest first: how many match, and the first `limit`, each with the deployed terminal it belongs to. */
export async function newestRows(reader: LedgerReader, query: ReadQuery, limit: number): Promise<{ count: number; rows: Array<{ row: ReadRow; t: RegisteredTerminal | undefined }> }> {
  const count = await reader.ask('count', { query });
  const deployed = new Deployed();
  const rows: Array<{ row: ReadRow; t: RegisteredTerminal | undefined }> = [];
  await eachPage(reader, query, 'newest', Math.min(limit, count), (page) => {
    for (const row of page) rows.push({ row, t: deployed.of(row.configNode, row.entry.terminal) });
    return true;
  });
  return { count, rows };
}
