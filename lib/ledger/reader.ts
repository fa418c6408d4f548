import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ValidationError } from '../protocol';
import type { ReadOps } from './reads';

/*
 * The ledger's reader for the operator tools (the admin API and sidebar, the
 * wonder-journal node): one worker thread per ledger with its own read-only
 * connection, so a query over a month of payments runs beside the event
 * loop, never on it. The worker answers one query at a time, in the order
 * asked; what comes back is the answer only (totals rows, a page of rows, a
 * slice of CSV), never the rows it went through.
 */

type Op = keyof ReadOps;
type ArgsOf<K extends Op> = Parameters<ReadOps[K]>[1];
type ResultOf<K extends Op> = ReturnType<ReadOps[K]>;

/** What the worker answers: a value (and the CPU time the query took in the worker), or an error's name, message and field. */
export type ReadAnswer = { id: number; value: unknown; cpuMs: number } | { id: number; error: { name: string; message: string; field?: string } };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** Queries waiting at most (each a few hundred bytes); beyond, a query is refused at once. */
const MAX_WAITING = 1_000;

export class LedgerReaderBusyError extends Error {
  readonly code = 'E_BUSY';
}

export class LedgerReader {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /** `file`: the ledger (ledger.db); a missing one reads as empty until it exists. */
  constructor(readonly file: string) {}

  /** The CPU time the worker spent on the last query answered (ms): its cost, whatever the machine's load. */
  lastCpuMs = 0;

  /** Queries asked and not answered yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Runs one query in the worker. */
  ask<K extends Op>(op: K, args: ArgsOf<K>): Promise<ResultOf<K>> {
    if (this.closed) return Promise.reject(new Error('the ledger reader is closed'));
    if (this.pending.size >= MAX_WAITING) return Promise.reject(new LedgerReaderBusyError(`${MAX_WAITING} ledger queries are waiting already`));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, op, args });
    });
  }

  /** Ends the worker; queries waiting are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the ledger reader is closed'));
    if (worker !== undefined) await worker.terminate();
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(path.join(__dirname, 'read-worker.js'), { workerData: { file: this.file } });
    // Idle, it keeps no process alive (a CLI run, a test); ref'd while a query waits.
    worker.unref();
    worker.on('message', (answer: ReadAnswer) => this.answered(answer));
    worker.on('error', (err) => {
      // A worker that died (out of memory, say): its queries fail, the next query starts another.
      if (this.worker === worker) this.worker = undefined;
      this.fail(err instanceof Error ? err : new Error(String(err)));
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.pending.size > 0) this.fail(new Error(`the ledger reader stopped (exit ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private answered(answer: ReadAnswer): void {
    const p = this.pending.get(answer.id);
    if (p === undefined) return;
    this.pending.delete(answer.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('value' in answer) {
      this.lastCpuMs = answer.cpuMs;
      p.resolve(answer.value);
    }
    else p.reject(errorOf(answer.error));
  }

  private fail(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

function errorOf(e: { name: string; message: string; field?: string }): Error {
  if (e.name === 'ValidationError' && e.field !== undefined) {
    return new ValidationError(e.field, e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message);
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** The readers of this process, one per ledger file (shared by the admin API and the wonder-journal nodes). */
const readers = new Map<string, LedgerReader>();

export function ledgerReader(file: string): LedgerReader {
  const key = path.resolve(file);
  let reader = readers.get(key);
  if (reader === undefined) readers.set(key, (reader = new LedgerReader(key)));
  return reader;
}
