import { amountToMinor, journalCsv, journalTotals, minorToAmount, queryJournal, type JournalQuery, type TotalsRow } from '../../lib/session';
import type { JournalEntry } from '../../lib/ledger';
import type { JournalReader } from './ledger-readers-temporary';
import { registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/*
 * The answers of the operator tools (the admin API, the sidebar, the
 * wonder-journal node) from the journals' readers (see JournalSource),
 * computed one journal at a time with a turn of the event loop between
 * journals: an answer never holds a payment in flight up for longer than
 * one journal's share of the work.
 */

/** How the tools label what they give: the deployed config node a journal belongs to (null when no deployed terminal has it). */
export interface TerminalLabel {
  terminalId: string | null;
  terminalName: string | null;
}

export function terminalLabel(t: RegisteredTerminal | undefined): TerminalLabel {
  return { terminalId: t?.id ?? null, terminalName: t?.name ?? null };
}

/** An entry and the deployed terminal whose journal holds it. */
export interface FoundEntry {
  e: JournalEntry;
  t: RegisteredTerminal | undefined;
}

export type TotalsView = TotalsRow & TerminalLabel;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function eachJournal(readers: JournalReader[], each: (reader: JournalReader) => Promise<void>): Promise<void> {
  for (let i = 0; i < readers.length; i++) {
    if (i > 0) await turn();
    await each(readers[i]!);
  }
}

/** Each journal identity's deployed terminal (a journal no node has open may be one's under an older name). */
function byIdentity(): Map<string, RegisteredTerminal> {
  return new Map(registeredTerminals().map((t) => [t.identity, t]));
}

const newestFirst = (a: JournalEntry, b: JournalEntry) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0);

/** A journal's entries that match `q` (no `limit`), newest first: the first `limit`, and how many match. */
async function matching(reader: JournalReader, q: JournalQuery): Promise<{ count: number; entries: JournalEntry[] }> {
  const found = queryJournal(await reader.read(), q);
  return { count: found.length, entries: found };
}

/**
 * The entries of the readers' journals that match `q` (its `limit` aside),
 * newest first: how many, and the first `limit` (Infinity: every one), each
 * with the deployed terminal whose journal holds it.
 */
export async function newestEntries(readers: JournalReader[], q: JournalQuery, limit: number): Promise<{ count: number; entries: FoundEntry[] }> {
  const { limit: _limit, ...query } = q;
  const names = byIdentity();
  let count = 0;
  let top: FoundEntry[] = [];
  await eachJournal(readers, async (reader) => {
    const terminal = reader.terminal;
    const found = await matching(reader, query);
    count += found.count;
    // With the list full, only what is newer than its last can enter it (a tie keeps what is there, as the sort would).
    const cut = top.length >= limit ? top[top.length - 1]!.e.openedAt : undefined;
    const rows: FoundEntry[] = [];
    for (const e of found.entries) {
      // (Newest first: the rest are older still.)
      if (rows.length >= limit || (cut !== undefined && !(e.openedAt > cut))) break;
      rows.push({ e, t: terminal ?? names.get(e.terminal) });
    }
    if (rows.length > 0) top = top.length === 0 ? rows : top.concat(rows).sort((a, b) => newestFirst(a.e, b.e)).slice(0, limit);
  });
  return { count, entries: top };
}

/** Adds a row of the same terminal and currency (two journals of one terminal) into `into`, exactly. */
function addRow(into: TotalsRow, row: TotalsRow): void {
  const sum = (a: string, b: string) => minorToAmount((amountToMinor(a) ?? 0n) + (amountToMinor(b) ?? 0n));
  for (const k of ['sales', 'refunds', 'voids'] as const) into[k] = { count: into[k].count + row[k].count, amount: sum(into[k].amount, row[k].amount) };
  for (const k of ['declined', 'unknown', 'unpriced'] as const) into[k] = { count: into[k].count + row[k].count };
  into.net = sum(into.net, row.net);
}

/**
 * Totals per terminal and currency of the readers' journals: `terminalOf`
 * names a row's terminal (rows of one name and currency are added up),
 * `deployedAs` the deployed terminal a name is (for its label).
 */
export async function totalsOf(
  readers: JournalReader[],
  q: JournalQuery,
  terminalOf: (reader: JournalReader, row: TotalsRow) => string,
  deployedAs: (terminal: string) => RegisteredTerminal | undefined,
): Promise<TotalsView[]> {
  const rows = new Map<string, TotalsRow>();
  await eachJournal(readers, async (reader) => {
    for (const row of journalTotals(await reader.read(), q)) {
      row.terminal = terminalOf(reader, row);
      const key = `${row.terminal}\u0000${row.currency}`;
      const known = rows.get(key);
      if (known === undefined) rows.set(key, { ...row });
      else addRow(known, row);
    }
  });
  return [...rows.values()]
    .sort((a, b) => (a.terminal < b.terminal ? -1 : a.terminal > b.terminal ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
    .map((row) => ({ ...row, ...terminalLabel(deployedAs(row.terminal)) }));
}

/** Entries a slice of the CSV holds (a few milliseconds of work). */
const CSV_SLICE = 2_000;

/** The CSV of the matching entries of the readers' journals (every one, oldest first: a spreadsheet's order), made in slices. */
export async function csvOf(readers: JournalReader[], q: JournalQuery): Promise<string> {
  const { limit: _limit, ...query } = q;
  // Newest first, each journal's list merged in (a turn between journals).
  let all: JournalEntry[] = [];
  await eachJournal(readers, async (reader) => {
    const found = (await matching(reader, query)).entries;
    all = all.length === 0 ? found : all.concat(found).sort(newestFirst);
  });
  const parts: string[] = [];
  for (let end = all.length; end > 0 || parts.length === 0; end -= CSV_SLICE) {
    if (parts.length > 0) await turn();
    const slice: JournalEntry[] = [];
    for (let i = end - 1; i >= Math.max(0, end - CSV_SLICE); i--) slice.push(all[i]!);
    const csv = journalCsv(slice);
    // The header row once.
    parts.push(parts.length === 0 ? csv : csv.slice(csv.indexOf('\r\n') + 2));
  }
  return parts.join('');
}
