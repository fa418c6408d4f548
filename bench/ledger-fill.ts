/**
 * Writes payments straight into a ledger file (one transaction), for the
 * benchmarks and tests that need a ledger with history before a runtime or a
 * session opens it. Another connection may have the ledger open: SQLite's
 * own locking orders the writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate, rowOfEntry, WRITER_PRAGMAS, type JournalEntry } from '../lib/ledger';

const COLUMNS = Object.keys(rowOfEntry({ referenceID: 'x', action: 'Sale', terminal: 't', requestID: 'r', state: 'open', openedAt: new Date(0).toISOString() }));

export function fillLedger(file: string, entries: Iterable<JournalEntry>): number {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA busy_timeout = 10000; ${WRITER_PRAGMAS}`);
    migrate(db, file);
    const insert = db.prepare(`INSERT OR REPLACE INTO payments (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `:${c}`).join(', ')})`);
    let n = 0;
    db.exec('BEGIN IMMEDIATE');
    for (const e of entries) {
      insert.run(rowOfEntry(e));
      n++;
    }
    db.exec('COMMIT');
    return n;
  } finally {
    db.close();
  }
}
