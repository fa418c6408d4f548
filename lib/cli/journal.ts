/**
 * `wonder-ecr journal <list|totals|export>`: a technician's view of the
 * payment ledger at the gateway's shell. Reads only: the ledger is opened
 * read-only (SQLite's own locking: it runs beside a live Node-RED, or CLI,
 * that writes to the same file, and never changes it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { describeValue, isWonderError, renameField, ValidationError } from '../protocol';
import {
  cliStateDirectory, LEDGER_FILE_NAME, periodBounds, READ_OPS, totalsRows, validateJournalQuery, type JournalQuery, type ReadCursor, type ReadQuery, type ReadRow,
} from '../ledger';
import { entryTable, totalsTable } from './journal-tables';
import type { CliIo } from './io';

export const JOURNAL_EXIT = {
  ok: 0,
  unreadable: 1,
  badInput: 2,
} as const;

export const JOURNAL_USAGE = `  wonder-ecr journal <list|totals|export> [--ledger FILE | --dir DIR] [--from ISO] [--to ISO]
      [--terminal NAME] [--state open|settled] [--result approved|declined|voided|open|not-sent] [--limit N]
      [--csv | --json]
      reads the ledger (ledger.db) in DIR (default: the CLI's own $XDG_STATE_HOME/wonder-ecr; a Node-RED
      one is <userDir>/wonder-ecr) read-only, beside a live writer. --journal FILE: the old name of --ledger.
      --from inclusive, --to exclusive, on the time a payment started; a date alone is local midnight.
      list: newest first; totals: per terminal and currency; export: CSV (or --json) of the payments.
      exit status: 0 done (also when nothing matches), 1 the ledger could not be read, 2 bad input`;

const OPTIONS = {
  ledger: { type: 'string' },
  journal: { type: 'string' },
  dir: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  terminal: { type: 'string' },
  state: { type: 'string' },
  result: { type: 'string' },
  limit: { type: 'string' },
  csv: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UnreadableError extends Error {}

/** The ledger file the flags name (--ledger, its old name --journal, or --dir's ledger.db; else the CLI's own). */
function ledgerFor(v: Values, env: NodeJS.ProcessEnv): string | undefined {
  const named = v.ledger !== undefined ? { flag: '--ledger', file: v.ledger } : v.journal !== undefined ? { flag: '--journal', file: v.journal } : undefined;
  if (v.ledger !== undefined && v.journal !== undefined) throw new ValidationError('--journal', 'cannot be given with --ledger (it is its old name)');
  if (named !== undefined && v.dir !== undefined) throw new ValidationError(named.flag, 'cannot be given with --dir');
  if (named !== undefined) {
    const st = fs.statSync(named.file, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) throw new ValidationError(named.flag, `${describeValue(named.file)} is not a file`);
    return named.file;
  }
  const dir = v.dir ?? cliStateDirectory(env);
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) throw new ValidationError(v.dir === undefined ? 'state directory' : '--dir', `${describeValue(dir)} is not a directory`);
  const file = path.join(dir, LEDGER_FILE_NAME);
  return fs.existsSync(file) ? file : undefined;
}

function queryOf(v: Values): JournalQuery {
  const q: JournalQuery = {};
  if (v.from !== undefined) q.from = v.from;
  if (v.to !== undefined) q.to = v.to;
  if (v.terminal !== undefined) q.terminal = v.terminal;
  if (v.state !== undefined) q.state = v.state as JournalQuery['state'];
  if (v.result !== undefined) q.result = v.result;
  if (v.limit !== undefined) {
    if (!/^[0-9]{1,9}$/.test(v.limit)) throw new ValidationError('--limit', `must be a whole number, got ${describeValue(v.limit)}`);
    q.limit = Number(v.limit);
  }
  try {
    // Checked before the ledger is opened: bad input reads nothing.
    validateJournalQuery(q);
  } catch (err) {
    if (isWonderError(err) && err.field !== undefined) throw renameField(err, `--${err.field}`);
    throw err;
  }
  return q;
}

/** The ledger query: the period in ms, `--terminal` matched against the terminal's name on the payments (or its config node, or SN). */
function readQueryOf(q: JournalQuery, withFilters: boolean): ReadQuery {
  const { from, to } = periodBounds(q);
  return {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(q.terminal !== undefined ? { terminals: { configNodes: [q.terminal], names: [q.terminal], sns: [q.terminal] } } : {}),
    ...(withFilters && q.state !== undefined ? { state: q.state } : {}),
    ...(withFilters && q.result !== undefined ? { result: q.result } : {}),
  };
}

/** The ledger, read-only (none yet: nothing to read). */
function open(file: string | undefined): DatabaseSync | undefined {
  if (file === undefined) return undefined;
  try {
    const db = new DatabaseSync(file, { readOnly: true });
    db.exec('PRAGMA busy_timeout = 5000');
    // Not a ledger (another file named): said now, as unreadable.
    db.prepare('SELECT 1 FROM payments LIMIT 1').get();
    return db;
  } catch (err) {
    throw new UnreadableError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Runs a query, an error of the file's (locked for too long, damaged) said as unreadable. */
function reading<T>(file: string | undefined, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new UnreadableError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The matching payments, a page at a time (`order`), at most `limit`. */
function eachPage(db: DatabaseSync | undefined, query: ReadQuery, order: 'newest' | 'oldest', limit: number, each: (rows: ReadRow[]) => void): void {
  let after: ReadCursor | undefined;
  for (let left = limit; left > 0; ) {
    const page = READ_OPS.page(db, { query, order, limit: Math.min(5_000, left), ...(after !== undefined ? { after } : {}) });
    left -= page.rows.length;
    each(page.rows);
    if (page.next === undefined) return;
    after = page.next;
  }
}

export async function runJournalCli(argv: string[], io: CliIo): Promise<number> {
  let db: DatabaseSync | undefined;
  try {
    const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...extra] = positionals;
    if (v.help === true) {
      io.stderr(`usage:\n${JOURNAL_USAGE}`);
      return JOURNAL_EXIT.ok;
    }
    if (command !== 'list' && command !== 'totals' && command !== 'export') {
      throw new ValidationError('command', `journal needs list, totals or export${command === undefined ? '' : `, got ${describeValue(command.slice(0, 20))}`}`);
    }
    if (extra.length > 0) throw new ValidationError('arguments', `unexpected ${describeValue(extra[0])}`);
    if (v.csv === true && v.json === true) throw new ValidationError('--csv', 'cannot be given with --json');
    const q = queryOf(v);
    const file = ledgerFor(v, io.env);
    if (file === undefined) io.stderr('wonder-ecr: no ledger found (ledger.db)');
    db = open(file);
    const found = db;
    if (command === 'totals') {
      const rows = totalsRows(reading(file, () => READ_OPS.totals(found, { query: readQueryOf(q, false) })), (g) => g.terminal);
      if (v.json === true) io.stdout(JSON.stringify(rows, null, 2));
      else if (v.csv === true) io.stdout(totalsTable(rows, 'csv'));
      else io.stdout(totalsTable(rows, 'text'));
      return JOURNAL_EXIT.ok;
    }
    const query = readQueryOf(q, true);
    const limit = q.limit ?? Infinity;
    if (v.csv === true || (command === 'export' && v.json !== true)) {
      // Newest first, as listed, a page at a time.
      let after: ReadCursor | undefined;
      for (let left = limit; ; ) {
        const page = reading(file, () => READ_OPS.csvPage(found, { query, order: 'newest', limit: Math.min(5_000, left), ...(after !== undefined ? { after } : {}) }));
        left -= page.rows;
        // Each line ends CRLF: io.stdout adds the LF of the last.
        if (page.text !== '') io.stdout(page.text.replace(/\n$/, ''));
        if (page.next === undefined || left <= 0) break;
        after = page.next;
      }
      return JOURNAL_EXIT.ok;
    }
    const rows: ReadRow[] = [];
    reading(file, () => eachPage(found, query, 'newest', limit, (page) => rows.push(...page)));
    if (v.json === true) io.stdout(JSON.stringify(rows.map((r) => r.entry), null, 2));
    else io.stdout(entryTable(rows));
    return JOURNAL_EXIT.ok;
  } catch (err) {
    io.stderr(`wonder-ecr: ${(err as Error).message}`);
    if (err instanceof UnreadableError) return JOURNAL_EXIT.unreadable;
    if (isWonderError(err) || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return JOURNAL_EXIT.badInput;
    return JOURNAL_EXIT.unreadable;
  } finally {
    db?.close();
  }
}
