/**
 * `wonder-ecr journal <list|totals|export>`: a technician's view of the
 * payment journals at the gateway's shell. Reads only: never opens a journal
 * for writing, never truncates a torn tail, so it runs beside a live
 * Node-RED (or CLI) that appends to the same file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { describeValue, isWonderError, renameField, ValidationError } from '../protocol';
import { journalCsv, journalTotals, queryJournal, type JournalQuery } from '../session';
import { cliStateDirectory, LEDGER_FILE_NAME, readLedgerFile, type JournalEntry } from '../ledger';
import { entryTable, totalsTable } from './journal-tables';
import type { CliIo } from './io';

export const JOURNAL_EXIT = {
  ok: 0,
  unreadable: 1,
  badInput: 2,
} as const;

export const JOURNAL_USAGE = `  wonder-ecr journal <list|totals|export> [--ledger FILE | --dir DIR] [--from ISO] [--to ISO]
      [--terminal ID] [--state open|settled] [--result approved|declined|voided|open|not-sent] [--limit N]
      [--csv | --json]
      reads the ledger FILE, or DIR/ledger.db (default: the CLI's own $XDG_STATE_HOME/wonder-ecr; a
      Node-RED one is <userDir>/wonder-ecr), read-only beside a live writer (--journal: old name of --ledger).
      --from inclusive, --to exclusive, on the time a payment started; a date alone is local midnight.
      list: newest first; totals: per terminal and currency; export: CSV (or --json) of the entries.
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

/** The ledger file to read: --ledger (or its old name --journal), or DIR/ledger.db. */
function fileFor(v: Values, env: NodeJS.ProcessEnv): string | undefined {
  const given = v.ledger ?? v.journal;
  const flag = v.ledger !== undefined ? '--ledger' : '--journal';
  if (v.ledger !== undefined && v.journal !== undefined) throw new ValidationError('--journal', 'is the old name of --ledger: give one of them');
  if (given !== undefined && v.dir !== undefined) throw new ValidationError(flag, 'cannot be given with --dir');
  if (given !== undefined) {
    const st = fs.statSync(given, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) throw new ValidationError(flag, `${describeValue(given)} is not a file`);
    return given;
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
    // Checked before any file is read: bad input reads nothing.
    queryJournal([], q);
  } catch (err) {
    if (isWonderError(err) && err.field !== undefined) throw renameField(err, `--${err.field}`);
    throw err;
  }
  return q;
}

function read(file: string | undefined, q: JournalQuery): JournalEntry[] {
  if (file === undefined) return [];
  try {
    return readLedgerFile(file, { ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}), ...(q.state === 'open' ? { openOnly: true } : {}) });
  } catch (err) {
    throw new UnreadableError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export async function runJournalCli(argv: string[], io: CliIo): Promise<number> {
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
    const file = fileFor(v, io.env);
    if (file === undefined) io.stderr(`wonder-ecr: no ledger found (${LEDGER_FILE_NAME})`);
    const entries = read(file, q);
    if (command === 'totals') {
      const { limit: _limit, state: _state, result: _result, ...period } = q;
      const rows = journalTotals(entries, period);
      if (v.json === true) io.stdout(JSON.stringify(rows, null, 2));
      else if (v.csv === true) io.stdout(totalsTable(rows, 'csv'));
      else io.stdout(totalsTable(rows, 'text'));
      return JOURNAL_EXIT.ok;
    }
    const found = queryJournal(entries, q);
    if (v.json === true) io.stdout(JSON.stringify(found, null, 2));
    else if (v.csv === true || command === 'export') io.stdout(journalCsv(found).replace(/\r\n$/, ''));
    else {
      const byKey = new Map(entries.filter((e) => e.action !== 'Void').map((e) => [`${e.terminal}\u0000${e.referenceID}`, e]));
      io.stdout(entryTable(found, (v) => byKey.get(`${v.terminal}\u0000${v.referenceID}`)));
    }
    return JOURNAL_EXIT.ok;
  } catch (err) {
    io.stderr(`wonder-ecr: ${(err as Error).message}`);
    if (err instanceof UnreadableError) return JOURNAL_EXIT.unreadable;
    if (isWonderError(err) || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return JOURNAL_EXIT.badInput;
    return JOURNAL_EXIT.unreadable;
  }
}
