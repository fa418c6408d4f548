/**
 * The ledger's schema: one SQLite file per Node-RED instance
 * (`<userDir>/wonder-ecr/ledger.db`) or CLI state folder. STRICT tables,
 * money in integer minor units with the currency's exponent beside it, times
 * as integer milliseconds since the epoch (UTC). No card data and no secret
 * in any column (the cloud pairing is kept encrypted, as a sealed record).
 *
 * The schema is versioned with `PRAGMA user_version`: MIGRATIONS[i] takes a
 * ledger from version i to i + 1. A ledger written by a newer version of the
 * package (user_version above the last) is refused, never altered.
 */
import type { DatabaseSync } from 'node:sqlite';

/** Version 1: payments, lookups, EasyCard runs, terminals, cloud pairing, meta and owner. */
const V1 = `
CREATE TABLE payments (
  key TEXT PRIMARY KEY,
  reference TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('Sale', 'Refund', 'Void')),
  terminal TEXT NOT NULL,
  config_node TEXT,
  device_sn TEXT,
  address TEXT,
  node TEXT,
  request_id TEXT NOT NULL,
  amount_minor INTEGER,
  currency TEXT,
  exponent INTEGER,
  customer_order_id TEXT,
  org_reference_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'Success', 'Failed', 'NotSent')),
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  status TEXT,
  error_code TEXT,
  error_message TEXT,
  transaction_status TEXT,
  answer_amount TEXT,
  answer_currency TEXT,
  rrn TEXT,
  brn TEXT,
  transaction_time TEXT,
  resolved_by TEXT,
  verdict TEXT,
  reason TEXT,
  delivered_at INTEGER
) STRICT;
CREATE INDEX payments_open ON payments (terminal) WHERE state = 'open';
CREATE INDEX payments_open_sn ON payments (device_sn) WHERE state = 'open';
CREATE INDEX payments_reference ON payments (reference);
CREATE INDEX payments_org_reference ON payments (org_reference_id) WHERE org_reference_id IS NOT NULL;
CREATE INDEX payments_customer_order ON payments (customer_order_id) WHERE customer_order_id IS NOT NULL;
CREATE INDEX payments_opened ON payments (opened_at);
CREATE INDEX payments_closed ON payments (closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE lookups (
  id INTEGER PRIMARY KEY,
  payment_key TEXT NOT NULL,
  reference TEXT NOT NULL,
  asked_at INTEGER NOT NULL,
  asked_by TEXT NOT NULL CHECK (asked_by IN ('answer', 'recovery', 'status-node', 'operator')),
  terminal TEXT,
  device_sn TEXT,
  transaction_status TEXT,
  verdict TEXT,
  reason TEXT,
  result TEXT
) STRICT;
CREATE INDEX lookups_payment ON lookups (payment_key, asked_at);
CREATE INDEX lookups_asked ON lookups (asked_at);

CREATE TABLE easycard_runs (
  mch_id TEXT NOT NULL,
  store_order_no TEXT NOT NULL,
  service_type TEXT NOT NULL,
  node TEXT,
  state TEXT NOT NULL CHECK (state IN ('running', 'interrupted', 'completed', 'failed')),
  attempts INTEGER NOT NULL,
  in_flight INTEGER,
  next_basis TEXT,
  result_ok INTEGER,
  result_reason TEXT,
  report_to_easycard INTEGER,
  status_code TEXT,
  txn_result TEXT,
  error_code TEXT,
  result_retry TEXT,
  rr_number TEXT,
  message TEXT,
  recovered INTEGER NOT NULL DEFAULT 0,
  reported INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (mch_id, store_order_no)
) STRICT;
CREATE INDEX easycard_runs_state ON easycard_runs (state) WHERE state IN ('running', 'interrupted') OR (recovered = 1 AND reported = 0);
CREATE INDEX easycard_runs_updated ON easycard_runs (updated_at);

CREATE TABLE terminals (
  address TEXT NOT NULL,
  device_sn TEXT NOT NULL,
  config_node TEXT,
  transport TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (address, device_sn)
) STRICT;
CREATE INDEX terminals_sn ON terminals (device_sn);

CREATE TABLE cloud_pairing (
  business_id TEXT NOT NULL,
  device_sn TEXT NOT NULL,
  format TEXT NOT NULL,
  saved_at INTEGER NOT NULL,
  iv TEXT NOT NULL,
  tag TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (business_id, device_sn)
) STRICT;

CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE owner (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at INTEGER NOT NULL
) STRICT;
`;

/**
 * Version 2: the totals index. The operator tools' totals of a long period
 * (a month) are counted and summed along it, grouped in its order (no sort,
 * no seek into the table); its groups' rows are ranges of it by time.
 */
const V2 = `
CREATE INDEX payments_totals ON payments (terminal, config_node, currency, exponent, kind, state, verdict, opened_at, amount_minor);
`;

/** A payment's day and group in `payment_days`, from `row` (a trigger's new or old, or a row of payments): a missing value is '' (-1 for the exponent). */
const dayKey = (row: 'new' | 'old' | 'payments') =>
  `${row}.opened_at / 86400000, ${row}.terminal, ifnull(${row}.config_node, ''), ifnull(${row}.device_sn, ''), ifnull(${row}.currency, ''), ` +
  `ifnull(${row}.exponent, -1), ${row}.kind, ${row}.state, ifnull(${row}.verdict, '')`;
const DAY_COLUMNS = 'day, terminal, config_node, device_sn, currency, exponent, kind, state, verdict';
/** Counts the payment `new` in (`when`: if it holds). */
const addDay = (when = '') => `
  INSERT INTO payment_days (${DAY_COLUMNS}, n, priced, minor)
  SELECT ${dayKey('new')}, 1, new.amount_minor IS NOT NULL, ifnull(new.amount_minor, 0)${when === '' ? ' WHERE true' : ` WHERE ${when}`}
  ON CONFLICT DO UPDATE SET n = n + 1, priced = priced + excluded.priced, minor = minor + excluded.minor;`;
/** Counts the payment `old` out; a group left with none goes. */
const takeDay = () => `
  UPDATE payment_days SET n = n - 1, priced = priced - (old.amount_minor IS NOT NULL), minor = minor - ifnull(old.amount_minor, 0)
  WHERE (${DAY_COLUMNS}) = (${dayKey('old')});
  DELETE FROM payment_days WHERE (${DAY_COLUMNS}) = (${dayKey('old')}) AND n = 0;`;

/**
 * Version 3: the payments settled (every state but open: Success, Failed,
 * NotSent) counted and summed per day (UTC: opening time in whole days since
 * 1970) and group, what the totals index's groups give. Triggers keep it in
 * the same transaction as each payment's insert, settlement, change and
 * deletion, whoever writes it; a payment's row written while it is open, as
 * every payment's first row is, costs it nothing, and its settlement one
 * upsert. A long period's totals are read from its whole days here (with
 * the few payments still open, along `payments_open`) and from its first and
 * last part-days along `payments_opened`.
 */
const V3 = `
CREATE TABLE payment_days (
  day INTEGER NOT NULL,
  terminal TEXT NOT NULL,
  config_node TEXT NOT NULL,
  device_sn TEXT NOT NULL,
  currency TEXT NOT NULL,
  exponent INTEGER NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  verdict TEXT NOT NULL,
  n INTEGER NOT NULL,
  priced INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  PRIMARY KEY (${DAY_COLUMNS})
) STRICT, WITHOUT ROWID;
INSERT INTO payment_days (${DAY_COLUMNS}, n, priced, minor)
  SELECT ${dayKey('payments')}, count(*), count(amount_minor), ifnull(sum(amount_minor), 0)
  FROM payments WHERE state <> 'open' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
CREATE TRIGGER payment_days_insert AFTER INSERT ON payments WHEN new.state <> 'open' BEGIN${addDay()}
END;
CREATE TRIGGER payment_days_settle AFTER UPDATE OF state ON payments WHEN old.state = 'open' AND new.state <> 'open' BEGIN${addDay()}
END;
CREATE TRIGGER payment_days_update AFTER UPDATE OF opened_at, terminal, config_node, device_sn, currency, exponent, kind, state, verdict, amount_minor ON payments
WHEN old.state <> 'open' AND (${dayKey('old')}, old.amount_minor) IS NOT (${dayKey('new')}, new.amount_minor) BEGIN${takeDay()}${addDay("new.state <> 'open'")}
END;
CREATE TRIGGER payment_days_delete AFTER DELETE ON payments WHEN old.state <> 'open' BEGIN${takeDay()}
END;
`;

/** MIGRATIONS[i] takes the ledger from user_version i to i + 1 (each runs in one transaction). Only ever appended to. */
export const MIGRATIONS: readonly string[] = [V1, V2, V3];

/** The schema version this package writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The ledger's pragmas for a connection that writes (WAL, durable across power loss). */
export const WRITER_PRAGMAS = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA trusted_schema = OFF;
`;

/** The ledger was written by a newer version of the package: it is not opened (nothing is changed in it). */
export class LedgerVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
  ) {
    super(`${file} has schema version ${found}; this version of node-red-contrib-wonder-ecr knows versions up to ${SCHEMA_VERSION}: update the package`);
    this.name = 'LedgerVersionError';
  }
}

/** The ledger's schema version. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return Number(row?.user_version ?? 0);
}

/**
 * Brings the ledger's schema up to SCHEMA_VERSION, one migration per
 * transaction (BEGIN IMMEDIATE: a second process migrating at once waits, then
 * finds the work done). Returns the version found before.
 */
export function migrate(db: DatabaseSync, file = 'the ledger'): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) throw new LedgerVersionError(file, found);
  for (let version = found; version < SCHEMA_VERSION; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated between the read above and this transaction.
      if (schemaVersion(db) === version) {
        db.exec(MIGRATIONS[version]!);
        db.exec(`PRAGMA user_version = ${version + 1}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return found;
}
