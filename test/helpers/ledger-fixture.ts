/**
 * Ledgers for the readers' tests: a real SQLite file with the package's
 * schema, filled by direct SQL inserts in one transaction (500,000 payments
 * in a few seconds).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { amountToMinor, journalKey, migrate, WRITER_PRAGMAS, type LedgerEntry } from '../../lib/ledger';

/** A payment to insert: a journal entry's fields, and the row's own columns. */
export type FixtureEntry = LedgerEntry & { configNode?: string; deviceSn?: string; address?: string };

/** Opens (creating) a ledger with the schema, as the writer does. */
export function openFixtureLedger(file: string): DatabaseSync {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec(WRITER_PRAGMAS);
  migrate(db, file);
  return db;
}

const COLUMNS = [
  'key', 'reference', 'kind', 'terminal', 'config_node', 'device_sn', 'address', 'node', 'request_id', 'amount_minor', 'currency', 'exponent',
  'org_reference_id', 'state', 'opened_at', 'closed_at', 'status', 'error_code', 'error_message', 'transaction_status', 'answer_amount',
  'answer_currency', 'rrn', 'brn', 'transaction_time', 'resolved_by', 'verdict', 'reason',
] as const;

const INSERT = `INSERT OR REPLACE INTO payments (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;

type Value = string | number | bigint | null;

function valuesOf(e: FixtureEntry): Value[] {
  const o = e.outcome ?? {};
  const minor = e.amount === undefined ? undefined : amountToMinor(e.amount, 2);
  const ms = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));
  return [
    journalKey(e.action, e.referenceID),
    e.referenceID,
    e.action,
    e.terminal,
    e.configNode ?? null,
    e.deviceSn ?? null,
    e.address ?? null,
    e.node ?? null,
    e.requestID,
    minor === undefined ? null : minor,
    e.currency ?? null,
    minor === undefined ? null : 2,
    e.orgReferenceID ?? null,
    e.state,
    ms(e.openedAt),
    ms(e.closedAt),
    o.status ?? null,
    o.errorCode ?? null,
    o.errorMessage ?? null,
    o.transactionStatus ?? null,
    o.amount ?? null,
    o.currency ?? null,
    o.rrn ?? null,
    o.brn ?? null,
    o.transactionTime ?? null,
    o.resolvedBy ?? null,
    o.verdict ?? null,
    o.reason ?? null,
  ];
}

/** Inserts entries (the later of one key replaces the earlier, as a journal's later line did) in one transaction. */
export function insertEntries(db: DatabaseSync, entries: Iterable<FixtureEntry>): void {
  const stmt = db.prepare(INSERT);
  db.exec('BEGIN');
  try {
    for (const e of entries) stmt.run(...valuesOf(e));
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** A ledger file holding `entries`. */
export function ledgerWith(file: string, entries: Iterable<FixtureEntry>): void {
  const db = openFixtureLedger(file);
  try {
    insertEntries(db, entries);
  } finally {
    db.close();
  }
}

export interface BulkOptions {
  payments: number;
  /** Terminal names, taken in turn (with their config node ids, when given). */
  terminals: Array<{ name: string; configNode?: string }>;
  /** Opening times spread evenly over [start, start + spanMs). */
  start: number;
  spanMs: number;
  currency?: string;
}

/** What a bulk ledger holds, per terminal name: the exact totals the readers must give. */
export interface BulkExpected {
  sales: { count: number; minor: bigint };
  refunds: { count: number; minor: bigint };
  voids: { count: number; minor: bigint };
  declined: number;
  unknown: number;
  net: bigint;
}

/**
 * A ledger of `payments` rows, fast: every 7th a Refund, every 23rd a Sale
 * voided by a Void row opened just after it (the Void's own row, without an
 * amount: counted at its sale's), every 19th declined, every 97th left open,
 * every 199th never sent. `expected(from, to)` gives the totals of a period.
 */
export function bulkLedger(file: string, options: BulkOptions): { expected: (from: number, to: number) => Map<string, BulkExpected> } {
  const db = openFixtureLedger(file);
  const currency = options.currency ?? 'TWD';
  const stmt = db.prepare(INSERT);
  // What was written, kept in typed arrays (no half a million objects for the heap to walk while the readers are measured).
  const max = options.payments * 2;
  const kept = { terminal: new Uint16Array(max), kind: new Uint8Array(max), state: new Uint8Array(max), minor: new Float64Array(max), at: new Float64Array(max), n: 0 };
  const KINDS = ['Sale', 'Refund', 'Void'];
  const STATES = ['Success', 'Failed', 'open', 'NotSent'];
  const keep = (terminal: number, kind: string, state: string, minor: number, at: number) => {
    const k = kept.n++;
    kept.terminal[k] = terminal;
    kept.kind[k] = KINDS.indexOf(kind);
    kept.state[k] = STATES.indexOf(state);
    kept.minor[k] = minor;
    kept.at[k] = at;
  };
  db.exec('BEGIN');
  try {
    const n = options.payments;
    for (let i = 0; i < n; i++) {
      const ti = i % options.terminals.length;
      const t = options.terminals[ti]!;
      const at = options.start + Math.floor((i * options.spanMs) / n);
      const minor = 100 + ((i * 7919) % 999_900);
      const ref = `B${i}`;
      // (Periods prime to the terminals' count: every terminal has some of each.)
      const refund = i % 7 === 3;
      const voided = i % 23 === 7 && !refund;
      const state = i % 199 === 11 ? 'NotSent' : i % 97 === 13 ? 'open' : i % 19 === 5 ? 'Failed' : 'Success';
      const verdict = state === 'Success' ? 'approved' : state === 'Failed' ? 'declined' : null;
      const kind = refund ? 'Refund' : 'Sale';
      const closed = state === 'open' ? null : at + 1_000;
      stmt.run(ref, ref, kind, t.name, t.configNode ?? null, null, null, null, `r${i}`, minor, currency, 2, null, state, at, closed, null, null, null, null, null, null, null, null, null, null, verdict, verdict);
      keep(ti, kind, state, minor, at);
      if (voided && state === 'Success') {
        // The void: opened a second after its sale, within the same period but for the last second of a span.
        stmt.run(journalKey('Void', ref), ref, 'Void', t.name, t.configNode ?? null, null, null, null, `v${i}`, null, null, null, null, 'Success', at + 1, at + 2_000, null, null, null, null, null, null, null, null, null, null, 'approved', 'approved');
        keep(ti, 'Void', 'Success', minor, at + 1);
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  } finally {
    db.close();
  }
  return {
    expected: (from, to) => {
      const out = new Map<string, BulkExpected>();
      for (let k = 0; k < kept.n; k++) {
        const r = { terminal: options.terminals[kept.terminal[k]!]!.name, kind: KINDS[kept.kind[k]!]!, state: STATES[kept.state[k]!]!, minor: kept.minor[k]!, at: kept.at[k]! };
        if (r.at < from || r.at >= to || r.state === 'NotSent') continue;
        let x = out.get(r.terminal);
        if (x === undefined) {
          out.set(r.terminal, (x = { sales: { count: 0, minor: 0n }, refunds: { count: 0, minor: 0n }, voids: { count: 0, minor: 0n }, declined: 0, unknown: 0, net: 0n }));
        }
        if (r.state === 'open') x.unknown++;
        else if (r.state === 'Failed') x.declined++;
        else if (r.kind === 'Void') {
          x.voids.count++;
          x.voids.minor += BigInt(r.minor);
          x.net -= BigInt(r.minor);
        } else {
          const bucket = r.kind === 'Refund' ? x.refunds : x.sales;
          bucket.count++;
          bucket.minor += BigInt(r.minor);
          x.net += r.kind === 'Refund' ? -BigInt(r.minor) : BigInt(r.minor);
        }
      }
      return out;
    },
  };
}

/**
 * bulkLedger in a child process (the caller's heap keeps none of its garbage):
 * the expected totals of each period asked, per terminal name.
 */
export async function bulkLedgerApart(file: string, options: BulkOptions, periods: Array<[number, number]>): Promise<Array<Map<string, BulkExpected>>> {
  const { execFile } = await import('node:child_process');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [path.join(__dirname, 'bulk-ledger-child.js'), JSON.stringify({ file, options, periods })], { maxBuffer: 64 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const parsed = JSON.parse(stdout, (_k, v: unknown) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as Array<Array<[string, BulkExpected]>>;
  return parsed.map((entries) => new Map(entries));
}
