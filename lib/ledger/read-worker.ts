/**
 * The ledger's reader worker (see reader.ts): a read-only connection of its
 * own, one query at a time. Started by LedgerReader with `workerData.file`.
 */
// Before node:sqlite: on Node 22 its experimental warning is said once, by the main thread.
import './quiet-warning';
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { READ_OPS, type ReadOps } from './reads';
import type { ReadAnswer } from './reader';

const file = (workerData as { file: string }).file;
let db: DatabaseSync | undefined;
/** The file the connection has open (a ledger removed and made again, between two runtimes of one process, is another). */
let opened: { dev: number; ino: number } | undefined;

/** The connection, opened on the first query that finds the ledger (none yet: undefined, read as empty). */
function connection(): DatabaseSync | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (db !== undefined && (st === undefined || st.ino !== opened?.ino || st.dev !== opened.dev)) {
    db.close();
    db = undefined;
  }
  if (db !== undefined) return db;
  if (st === undefined) return undefined;
  opened = { dev: st.dev, ino: st.ino };
  return (db = open());
}

function open(): DatabaseSync {
  const c = new DatabaseSync(file, { readOnly: true });
  // The writer's commits wait for no reader (WAL); a checkpoint or a schema change in progress is waited for.
  c.exec('PRAGMA busy_timeout = 5000');
  // The worker's page cache: a few MB, whatever the ledger's size.
  c.exec('PRAGMA cache_size = -4096');
  return c;
}

parentPort!.on('message', (msg: { id: number; op: keyof ReadOps; args: unknown }) => {
  let answer: ReadAnswer;
  const cpu = process.threadCpuUsage();
  const cpuMs = () => {
    const used = process.threadCpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  try {
    const run = READ_OPS[msg.op] as (db: DatabaseSync | undefined, args: unknown) => unknown;
    if (typeof run !== 'function') throw new Error(`no such ledger query: ${String(msg.op)}`);
    const value = run(connection(), msg.args);
    answer = { id: msg.id, value, cpuMs: cpuMs() };
  } catch (err) {
    const e = err as { name?: unknown; message?: unknown; field?: unknown };
    answer = {
      id: msg.id,
      error: { name: String(e?.name ?? 'Error'), message: String(e?.message ?? err), ...(typeof e?.field === 'string' ? { field: e.field } : {}) },
    };
  }
  parentPort!.postMessage(answer);
});
