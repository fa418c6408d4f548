import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { journalKey, openLedger, readLedgerFile, type JournalEntry, type Ledger, type LedgerOptions } from '../../lib/ledger';
import { tempDir } from './temp';

/** A ledger file's path in a new temporary directory. */
export function tempLedgerFile(prefix = 'wonder-ledger-'): string {
  return path.join(tempDir(prefix), 'ledger.db');
}

/** Opens ledgers for the tests of the block it is called in, and closes each after its test. */
export function useLedgers(): (file: string, options?: LedgerOptions) => Ledger {
  const opened: Ledger[] = [];
  afterEach(async () => {
    for (const l of opened.splice(0)) await l.close();
  });
  return (file, options = {}) => {
    const ledger = openLedger(file, options);
    opened.push(ledger);
    return ledger;
  };
}

/** What is committed in a ledger file, read through a connection of its own: each payment by its key. */
export function committed(file: string): Map<string, JournalEntry> {
  return new Map(readLedgerFile(file, {}).map((e) => [journalKey(e.action, e.referenceID), e]));
}

/** The ledger's bytes on disk (the database, its write-ahead log and owner file), as text: to check what is never in it. */
export function ledgerBytes(file: string): string {
  return ['', '-wal', '-owner']
    .map((suffix) => {
      try {
        return fs.readFileSync(`${file}${suffix}`).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('');
}

/** The rows of one of a ledger file's tables, read through a read-only connection. */
function rowsOf<T>(file: string, sql: string): T[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** The `lookups` rows of a ledger file. */
export function readLedgerLookups(file: string): Array<{ reference: string; asked_by: string; result: string | null; transaction_status: string | null }> {
  return rowsOf(file, 'SELECT * FROM lookups ORDER BY id');
}

/** The `terminals` rows of a ledger file (which SN was seen at which place). */
export function readTerminals(file: string): Array<{ address: string; device_sn: string; config_node: string | null; transport: string | null }> {
  return rowsOf(file, 'SELECT * FROM terminals');
}
