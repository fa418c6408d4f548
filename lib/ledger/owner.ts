/**
 * One owner per ledger, released when its process dies. The owner holds an
 * exclusive SQLite lock on the companion file `<ledger>-owner` (opened with
 * `locking_mode = EXCLUSIVE` and written once: SQLite keeps the lock until the
 * connection closes, and the kernel drops it with the process). No lock file
 * outlives its process: a killed owner's lock is gone at once, whatever host
 * name the next process has. The owner's pid, host and start are recorded in
 * the ledger's `owner` row, so a refused process can say who holds it.
 */
import { DatabaseSync } from 'node:sqlite';

export interface LedgerOwnerInfo {
  pid: number;
  host: string;
  startedAt: number;
}

/** The ledger is in use by another owner (another process, or another runtime in this one). */
export class LedgerBusyError extends Error {
  constructor(
    readonly file: string,
    readonly owner: LedgerOwnerInfo | undefined,
    sameProcess = false,
  ) {
    super(
      sameProcess
        ? `the ledger ${file} is already open in this process (pid ${process.pid}) by another Node-RED runtime or owner: one owner per ledger`
        : owner !== undefined
          ? `the ledger ${file} is in use by process ${owner.pid} on ${owner.host} (since ${new Date(owner.startedAt).toISOString()}): one Node-RED (or command) per ledger; stop that one or use another user directory`
          : `the ledger ${file} is in use by another process: one Node-RED (or command) per ledger`,
    );
    this.name = 'LedgerBusyError';
  }
}

/** Holds the owner lock of `file` (its `-owner` companion). Throws LedgerBusyError when another connection holds it. */
export function takeOwnerLock(file: string, readOwner: () => LedgerOwnerInfo | undefined): DatabaseSync {
  const lock = new DatabaseSync(`${file}-owner`);
  try {
    lock.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY;');
    lock.exec('BEGIN IMMEDIATE');
    lock.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL) STRICT; DELETE FROM owner');
    lock.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    try {
      lock.close();
    } catch {
      // closed
    }
    if (/locked|busy/i.test((err as Error).message)) throw new LedgerBusyError(file, readOwner());
    throw err;
  }
}
