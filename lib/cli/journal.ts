/**
 * `wonder-ecr journal <list|totals|export>`: a technician's view of the
 * payment journals at the gateway's shell. Reads only: never opens a journal
 * for writing, never truncates a torn tail, so it runs beside a live
 * Node-RED (or CLI) that appends to the same file.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { describeValue, isWonderError, renameField, ValidationError } from '../protocol';
import {
  cliStateDirectory, journalCsv, journalFilesIn, journalTotals, queryJournal, readJournalFile,
  type JournalEntry, type JournalQuery,
} from '../session';
import { entryTable, totalsTable } from './journal-tables';
import type { CliIo } from './io';

export const JOURNAL_EXIT = {
  ok: 0,
  unreadable: 1,
  badInput: 2,
} as const;

export const JOURNAL_USAGE = `  wonder-ecr journal <list|totals|export> [--journal FILE | --dir DIR] [--from ISO] [--to ISO]
      [--terminal ID] [--state open|settled] [--result approved|declined|voided|open|not-sent] [--limit N]
      [--csv | --json]
      reads journal-*.jsonl (and the monthly archives compaction writes) in DIR (default: the CLI's own
      $XDG_STATE_HOME/wonder-ecr; a Node-RED one is <userDir>/wonder-ecr) without disturbing a live writer.
      --from inclusive, --to exclusive, on the time a payment started; a date alone is local midnight.
      list: newest first; totals: per terminal and currency; export: CSV (or --json) of the entries.
      exit status: 0 done (also when nothing matches), 1 a journal could not be read, 2 bad input`;

const OPTIONS = {
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

function filesFor(v: Values, env: NodeJS.ProcessEnv): string[] {
  if (v.journal !== undefined && v.dir !== undefined) throw new ValidationError('--journal', 'cannot be given with --dir');
  if (v.journal !== undefined) {
    const st = fs.statSync(v.journal, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) throw new ValidationError('--journal', `${describeValue(v.journal)} is not a file`);
    return [v.journal];
  }
  const dir = v.dir ?? cliStateDirectory(env);
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) throw new ValidationError(v.dir === undefined ? 'state directory' : '--dir', `${describeValue(dir)} is not a directory`);
  return journalFilesIn(dir);
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

function read(files: string[], q: JournalQuery): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const file of files) {
    try {
      for (const e of readJournalFile(file, q)) out.push(e);
    } catch (err) {
      throw new UnreadableError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return out;
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
    const files = filesFor(v, io.env);
    if (files.length === 0) io.stderr('wonder-ecr: no journal found (journal-*.jsonl)');
    const entries = read(files, q);
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
