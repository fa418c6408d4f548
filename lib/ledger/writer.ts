/**
 * The ledger's writer: a worker thread that owns the only connection that
 * writes. The main thread posts operations (those of one turn of its event
 * loop in one message); everything pending is committed in one transaction
 * (group commit: one sync for all of them), and each operation is answered
 * once its transaction has committed, or with the error that kept it out
 * (a transaction's answers in one message).
 *
 * A delivery note (`delivered`) need not be on disk before anything else
 * happens: it waits for the next transaction (a payment's row, an outcome)
 * and is committed in it, or alone once the writer has had nothing else for
 * `noteDelayMs`, or at close. So a sale's outcome, delivered, does not put a
 * third sync between it and the next sale's row.
 *
 * An outcome (`settle`) that could not be committed (disk full, say) is kept
 * here and committed before anything else in every later transaction, and at
 * close: until it is, nothing else is written. Settled payments older than
 * the retention are deleted in small batches when the writer is idle.
 */
import './quiet-warning';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { WriteOp, WriterAnswer, WriterReply, WriterRequest } from './writer-protocol';

const { file, retentionMs, pruneBatch, pruneEveryMs, noteDelayMs } = workerData as { file: string; retentionMs: number; pruneBatch: number; pruneEveryMs: number; noteDelayMs: number };
const port = parentPort!;

const db = new DatabaseSync(file);
db.exec('PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA trusted_schema = OFF;');

const PAYMENT_COLUMNS = [
  'key', 'reference', 'kind', 'terminal', 'config_node', 'device_sn', 'address', 'node', 'request_id', 'amount_minor', 'currency', 'exponent',
  'customer_order_id', 'org_reference_id', 'state', 'opened_at', 'closed_at', 'status', 'error_code', 'error_message', 'transaction_status',
  'answer_amount', 'answer_currency', 'rrn', 'brn', 'transaction_time', 'resolved_by', 'verdict', 'reason', 'delivered_at',
];
const OUTCOME_COLUMNS = ['status', 'error_code', 'error_message', 'transaction_status', 'answer_amount', 'answer_currency', 'rrn', 'brn', 'transaction_time', 'resolved_by', 'verdict', 'reason'];
const EASYCARD_COLUMNS = [
  'mch_id', 'store_order_no', 'service_type', 'node', 'state', 'attempts', 'in_flight', 'next_basis', 'result_ok', 'result_reason', 'report_to_easycard',
  'status_code', 'txn_result', 'error_code', 'result_retry', 'rr_number', 'message', 'recovered', 'reported', 'started_at', 'updated_at',
];

function upsert(table: string, columns: string[], conflict: string[]): string {
  const update = columns.filter((c) => !conflict.includes(c)).map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `:${c}`).join(', ')}) ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${update.join(', ')}`;
}

const statements = new Map<string, StatementSync>();
function stmt(sql: string): StatementSync {
  let s = statements.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}

const SQL = {
  payment: upsert('payments', PAYMENT_COLUMNS, ['key']),
  settle: `UPDATE payments SET state = :state, closed_at = :closed_at, ${OUTCOME_COLUMNS.map((c) => `${c} = :${c}`).join(', ')} WHERE key = :key`,
  delivered: 'UPDATE payments SET delivered_at = :at WHERE key = :key AND delivered_at IS NULL',
  lookup: 'INSERT INTO lookups (payment_key, reference, asked_at, asked_by, terminal, device_sn, transaction_status, verdict, reason, result) VALUES (:payment_key, :reference, :asked_at, :asked_by, :terminal, :device_sn, :transaction_status, :verdict, :reason, :result)',
  terminal: `INSERT INTO terminals (address, device_sn, config_node, transport, first_seen, last_seen) VALUES (:address, :device_sn, :config_node, :transport, :at, :at)
    ON CONFLICT (address, device_sn) DO UPDATE SET config_node = coalesce(excluded.config_node, config_node), transport = coalesce(excluded.transport, transport), last_seen = excluded.last_seen`,
  easycard: upsert('easycard_runs', EASYCARD_COLUMNS, ['mch_id', 'store_order_no']),
  pairing: upsert('cloud_pairing', ['business_id', 'device_sn', 'format', 'saved_at', 'iv', 'tag', 'data'], ['business_id', 'device_sn']),
  pairingRemove: 'DELETE FROM cloud_pairing WHERE business_id = :business_id AND device_sn = :device_sn',
  meta: upsert('meta', ['name', 'value'], ['name']),
  pruneLookups: `DELETE FROM lookups WHERE id IN (SELECT id FROM lookups WHERE asked_at < :before AND payment_key NOT IN (SELECT key FROM payments WHERE state = 'open') LIMIT :limit)`,
  prunePayments: `DELETE FROM payments WHERE key IN (SELECT key FROM payments WHERE state <> 'open' AND closed_at < :before LIMIT :limit)`,
};

function apply(op: WriteOp): void {
  switch (op.op) {
    case 'payment':
      stmt(SQL.payment).run(op.row);
      return;
    case 'settle':
      stmt(SQL.settle).run({ key: op.key, state: op.state, closed_at: op.closedAt, ...op.outcome });
      return;
    case 'delivered':
      stmt(SQL.delivered).run({ key: op.key, at: op.at });
      return;
    case 'lookup':
      stmt(SQL.lookup).run(op.row);
      return;
    case 'terminal':
      stmt(SQL.terminal).run(op.row);
      return;
    case 'easycard':
      stmt(SQL.easycard).run(op.row);
      return;
    case 'pairing':
      stmt(SQL.pairing).run(op.row);
      return;
    case 'pairing-remove':
      stmt(SQL.pairingRemove).run(op.row);
      return;
    case 'meta':
      stmt(SQL.meta).run({ name: op.name, value: op.value });
      return;
    case 'flush':
      return;
  }
}

function errorOf(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; errstr?: string; errcode?: number };
  const out: { message: string; code?: string } = { message: String(e?.message ?? err) };
  if (typeof e?.errcode === 'number') out.code = codeName(e.errcode);
  return out;
}

function codeName(errcode: number): string {
  // The primary result codes a ledger meets (the low byte of an extended code).
  const names: Record<number, string> = { 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 7: 'SQLITE_NOMEM', 8: 'SQLITE_READONLY', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT', 13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 19: 'SQLITE_CONSTRAINT' };
  return names[errcode & 0xff] ?? `SQLITE_${errcode}`;
}

/** Outcomes not committed yet: committed before anything else. */
let retained: Array<Extract<WriteOp, { op: 'settle' }>> = [];
let queue: WriterRequest[] = [];
/** Delivery notes waiting for the next transaction (or for noteTimer). */
let notes: WriterRequest[] = [];
let noteTimer: NodeJS.Timeout | undefined;
let scheduled = false;
let closing: WriterRequest | undefined;
let lastPrune = 0;
let pruneTimer: NodeJS.Timeout | undefined;

function post(reply: WriterReply): void {
  port.postMessage(reply);
}

function rollback(): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // Rolled back already (SQLite does so itself after some errors).
  }
}

/** Fails every operation of a batch with `error`; the outcomes among them are kept. */
function failAll(batch: WriterRequest[], error: { message: string; code?: string }): void {
  for (const r of batch) if (r.op.op === 'settle') retained.push(r.op);
  if (batch.length > 0) post({ answers: batch.map((r) => ({ id: r.id, error })) });
}

/** Commits the retained outcomes and `batch` in one transaction; answers each. */
function commit(batch: WriterRequest[]): void {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    failAll(batch, errorOf(err));
    return;
  }
  const wasRetained = retained;
  try {
    for (const op of wasRetained) apply(op);
  } catch (err) {
    rollback();
    failAll(batch, { ...errorOf(err), message: `an earlier outcome is still not written (${errorOf(err).message}): nothing else is written before it` });
    return;
  }
  const answers: WriterAnswer[] = [];
  const newlyRetained: Array<Extract<WriteOp, { op: 'settle' }>> = [];
  for (const r of batch) {
    try {
      db.exec('SAVEPOINT op');
      apply(r.op);
      db.exec('RELEASE op');
      answers.push({ id: r.id });
    } catch (err) {
      try {
        db.exec('ROLLBACK TO op');
        db.exec('RELEASE op');
      } catch {
        // The whole transaction is gone (disk full, I/O error): nothing of this batch is written.
        rollback();
        failAll(batch, errorOf(err));
        return;
      }
      if (r.op.op === 'settle') newlyRetained.push(r.op);
      answers.push({ id: r.id, error: errorOf(err) });
    }
  }
  try {
    db.exec('COMMIT');
  } catch (err) {
    rollback();
    failAll(batch, errorOf(err));
    return;
  }
  retained = newlyRetained;
  post({ answers, batch: batch.length, ...(wasRetained.length > 0 ? { committed: wasRetained.map((op) => op.key) } : {}) });
}

function flush(): void {
  scheduled = false;
  if (noteTimer !== undefined) clearTimeout(noteTimer);
  noteTimer = undefined;
  // In the order they were posted.
  const batch = notes.length === 0 ? queue : queue.concat(notes).sort((x, y) => x.id - y.id);
  queue = [];
  notes = [];
  if (batch.length > 0 || retained.length > 0) commit(batch);
  if (closing !== undefined) {
    finish();
    return;
  }
  schedulePrune();
}

/** Deletes one batch of settled payments (and old lookups) past the retention; again while there are more. */
function prune(): void {
  pruneTimer = undefined;
  if (closing !== undefined || retentionMs <= 0) return;
  if (queue.length > 0 || scheduled) {
    schedulePrune();
    return;
  }
  lastPrune = Date.now();
  const before = lastPrune - retentionMs;
  let deleted = 0;
  try {
    db.exec('BEGIN IMMEDIATE');
    deleted += Number(stmt(SQL.prunePayments).run({ before, limit: pruneBatch }).changes);
    deleted += Number(stmt(SQL.pruneLookups).run({ before, limit: pruneBatch }).changes);
    db.exec('COMMIT');
  } catch {
    rollback();
    return;
  }
  post({ pruned: deleted });
  if (deleted > 0) {
    pruneTimer = setTimeout(prune, 0);
    pruneTimer.unref();
  }
}

function schedulePrune(): void {
  if (pruneTimer !== undefined || retentionMs <= 0) return;
  pruneTimer = setTimeout(prune, Math.max(0, lastPrune + pruneEveryMs - Date.now()));
  pruneTimer.unref();
}

function finish(): void {
  if (pruneTimer !== undefined) clearTimeout(pruneTimer);
  if (noteTimer !== undefined) clearTimeout(noteTimer);
  if (retained.length > 0 || notes.length > 0) commit(notes);
  notes = [];
  const left = retained.length;
  try {
    db.close();
  } catch {
    // closed
  }
  post({ id: closing!.id, closed: true, retained: left });
  port.close();
}

port.on('message', (requests: WriterRequest[]) => {
  for (const request of requests) {
    if (request.op.op === 'delivered' && closing === undefined) {
      notes.push(request);
      continue;
    }
    if (request.op.op === 'close') closing = request;
    else queue.push(request);
  }
  if (queue.length === 0 && closing === undefined) {
    // Notes alone: committed with the next transaction, or after noteDelayMs.
    if (!scheduled && noteTimer === undefined && notes.length > 0) noteTimer = setTimeout(flush, noteDelayMs);
    return;
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

post({ ready: true });
schedulePrune();
