/**
 * The operator tools' queries on the ledger (the sidebar and admin API, the
 * wonder-journal node, `wonder-ecr journal`): each one SQL query, with a limit
 * or a page; nothing kept between queries. Totals are summed by SQLite in
 * integer minor units (read as bigint: exact) and written as decimal strings.
 * Run in the reader worker (reader.ts) by the runtime, directly by the CLI.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { JOURNAL_CSV_COLUMNS, csvLine } from './csv';
import type { JournalEntry, JournalOutcome } from './entries';

/** Which payments: by the time they opened (`from` inclusive, `to` exclusive, ms), terminal, state and result. */
export interface ReadQuery {
  from?: number;
  to?: number;
  /** The payments of these terminals only: by config node id, the terminal name on their rows, or the terminal's SN. */
  terminals?: { configNodes: string[]; names: string[]; sns?: string[] };
  /** `open`: outcome unknown; `settled`: Success or Failed (never-sent payments are in neither). */
  state?: 'open' | 'settled';
  /** A result word (open, approved, voided, declined, not-sent) or a state (Success, Failed, NotSent). */
  result?: string;
}

/** What a payment's answer kept (no card data). */
export type LedgerOutcome = JournalOutcome;

/** A payment as the operator tools show it: the fields the journal's entries had (the row's own columns aside). */
export type LedgerEntry = Omit<JournalEntry, 'customerOrderID' | 'configNode' | 'deviceSn' | 'address' | 'deliveredAt'>;

/** A page's row: the entry, its result word, the config node on its row, and a void's transaction's amount. */
export interface ReadRow {
  entry: LedgerEntry;
  result: EntryResult;
  configNode: string | null;
  /** A Void: the amount and currency of the transaction it voided, where the ledger has it. */
  voided?: { amount?: string; currency?: string };
}

/** Where a page ends: the next page starts after it. */
export type ReadCursor = [openedAt: number, rowid: number];

export type EntryResult = 'open' | 'approved' | 'voided' | 'declined' | 'not-sent';

/** A totals group as SQLite sums it (minor units as decimal strings: exact beyond 2^53). */
export interface TotalsGroup {
  terminal: string;
  configNode: string | null;
  currency: string;
  exponent: number;
  salesCount: number;
  sales: string;
  refundsCount: number;
  refunds: string;
  voidsCount: number;
  voids: string;
  declined: number;
  unknown: number;
  unpriced: number;
  net: string;
}

/** A payment's result word, in SQL (see entryResult): open, approved, voided, declined or not-sent. */
const RESULT = (p: string) => `CASE
  WHEN ${p}.state = 'open' THEN 'open'
  WHEN ${p}.state = 'NotSent' THEN 'not-sent'
  WHEN ${p}.verdict = 'approved' AND ${p}.kind = 'Void' THEN 'voided'
  WHEN ${p}.verdict IN ('approved', 'declined', 'voided') THEN ${p}.verdict
  WHEN ${p}.state = 'Success' THEN CASE WHEN ${p}.kind = 'Void' THEN 'voided' ELSE 'approved' END
  WHEN ${p}.state = 'Failed' THEN 'declined'
  ELSE 'open' END`;

/** The transaction a Void acts on (same reference, same terminal). */
const TARGET_JOIN = `LEFT JOIN payments t INDEXED BY payments_reference ON p.kind = 'Void' AND t.reference = p.reference AND t.kind <> 'Void' AND t.terminal = p.terminal`;

/** The WHERE clause of a query and its parameters. */
function where(q: ReadQuery, params: Record<string, string | number>): string {
  const parts: string[] = [];
  if (q.from !== undefined) {
    parts.push('p.opened_at >= :from');
    params.from = q.from;
  }
  if (q.to !== undefined) {
    parts.push('p.opened_at < :to');
    params.to = q.to;
  }
  if (q.terminals !== undefined) {
    parts.push(
      '(p.config_node IN (SELECT value FROM json_each(:configNodes)) OR p.terminal IN (SELECT value FROM json_each(:names)) OR p.device_sn IN (SELECT value FROM json_each(:sns)))',
    );
    params.configNodes = JSON.stringify(q.terminals.configNodes);
    params.names = JSON.stringify(q.terminals.names);
    params.sns = JSON.stringify(q.terminals.sns ?? []);
  }
  if (q.state === 'open') parts.push(`p.state = 'open'`);
  else if (q.state === 'settled') parts.push(`p.state IN ('Success', 'Failed')`);
  if (q.result !== undefined) {
    parts.push(`(p.state = :result OR (${RESULT('p')}) = :result)`);
    params.result = q.result;
  }
  return parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`;
}

export interface CountAndAmount {
  count: number;
  /** Exact decimal, at least two places ("123.45"). */
  amount: string;
}

/** Totals of one terminal in one currency, as the operator tools give them. */
export interface TotalsRow {
  terminal: string;
  currency: string;
  /** Sales the terminal approved (a sale voided later still counts here, and its void under `voids`). */
  sales: CountAndAmount;
  /** Refunds the terminal approved. */
  refunds: CountAndAmount;
  /** Voids that went through, at the amount of the transaction voided. */
  voids: CountAndAmount;
  /** Refused payments (sales, refunds, voids). */
  declined: { count: number };
  /** Payments whose outcome is not known (open). */
  unknown: { count: number };
  /** Payments counted above whose amount is not known (a void whose transaction is not in the ledger): in no sum. */
  unpriced: { count: number };
  /** sales − refunds − voided sales + voided refunds: what the period took. */
  net: string;
}

/**
 * Totals rows from SQLite's groups: `nameOf` names a group's terminal (groups
 * of one name and currency are added up, exactly), amounts written with at
 * least two decimals. Sorted by terminal, then currency.
 */
export function totalsRows(groups: readonly TotalsGroup[], nameOf: (g: TotalsGroup) => string): TotalsRow[] {
  const merged = new Map<string, TotalsGroup>();
  for (const g of groups) {
    const terminal = nameOf(g);
    const key = `${terminal}\u0000${g.currency}`;
    const known = merged.get(key);
    merged.set(key, known === undefined ? { ...g, terminal } : addGroups(known, { ...g, terminal }));
  }
  return [...merged.values()]
    .sort((a, b) => cmp(a.terminal, b.terminal) || cmp(a.currency, b.currency))
    .map((g) => {
      const exponent = Math.max(2, g.exponent);
      const amount = (minor: string) => minorToAmount(BigInt(minor) * 10n ** BigInt(exponent - g.exponent), exponent);
      return {
        terminal: g.terminal,
        currency: g.currency,
        sales: { count: g.salesCount, amount: amount(g.sales) },
        refunds: { count: g.refundsCount, amount: amount(g.refunds) },
        voids: { count: g.voidsCount, amount: amount(g.voids) },
        declined: { count: g.declined },
        unknown: { count: g.unknown },
        unpriced: { count: g.unpriced },
        net: amount(g.net),
      };
    });
}

/** Statements prepared once per connection and SQL text. */
const prepared = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

function statement(db: DatabaseSync, sql: string): StatementSync {
  let byText = prepared.get(db);
  if (byText === undefined) prepared.set(db, (byText = new Map()));
  let stmt = byText.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    byText.set(sql, stmt);
  }
  return stmt;
}

/** Connections that have minor_of (an amount string's minor units, for a payment whose row holds only the terminal's answer). */
const withFunctions = new WeakSet<DatabaseSync>();

const AMOUNT = /^(\d{1,15})(?:\.(\d{1,9}))?$/;

/** Minor units of an amount string at `exponent` decimals (more decimals than that, or not an amount: null). */
export function amountToMinor(value: unknown, exponent = 2): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const m = AMOUNT.exec(value.trim());
  if (m === null) return undefined;
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) return undefined;
  return BigInt(m[1]!) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
}

/** Minor units written with `exponent` decimals ("-3.05" for -305n at 2). */
export function minorToAmount(minor: bigint | number, exponent = 2): string {
  const m = BigInt(minor);
  const negative = m < 0n;
  const abs = negative ? -m : m;
  if (exponent <= 0) return `${negative ? '-' : ''}${abs.toString()}`;
  const scale = 10n ** BigInt(exponent);
  return `${negative ? '-' : ''}${(abs / scale).toString()}.${(abs % scale).toString().padStart(exponent, '0')}`;
}

function functions(db: DatabaseSync): void {
  if (withFunctions.has(db)) return;
  db.function('minor_of', { deterministic: true }, (value: unknown, exponent: unknown) => {
    const minor = amountToMinor(value, Number(exponent ?? 2));
    return minor === undefined ? null : minor;
  });
  withFunctions.add(db);
}

/** Payments in a period at most for which a totals query reads the period's rows by time; beyond, it scans the totals index (its work then bounded by the ledger, not the period). */
const SMALL_PERIOD = 20_000;

type Sums = Omit<TotalsGroup, 'terminal' | 'configNode' | 'currency' | 'exponent'>;

/** A payment's result word from its kind, state and verdict (RESULT in SQL). */
export function paymentResult(kind: string, state: string, verdict: string | null | undefined): EntryResult {
  if (state === 'open') return 'open';
  if (state === 'NotSent') return 'not-sent';
  if (verdict === 'approved' || verdict === 'declined' || verdict === 'voided') return verdict === 'approved' && kind === 'Void' ? 'voided' : verdict;
  if (state === 'Success') return kind === 'Void' ? 'voided' : 'approved';
  if (state === 'Failed') return 'declined';
  return 'open';
}

/** The index's groups: one per terminal, config node, currency, exponent, kind, state and verdict. */
interface IndexGroup {
  terminal: string;
  config_node: string | null;
  currency: string | null;
  exponent: bigint | null;
  kind: string;
  state: string;
  verdict: string | null;
  n: bigint;
  priced: bigint;
  minor: bigint | null;
}

const blankSums = (): Sums => ({ salesCount: 0, sales: '0', refundsCount: 0, refunds: '0', voidsCount: 0, voids: '0', declined: 0, unknown: 0, unpriced: 0, net: '0' });

/**
 * Totals per terminal (name and config node) and currency of the payments
 * the query matches (its state and result aside), summed by SQLite. First
 * the groups (terminal, config node, currency, exponent, kind, state,
 * verdict) with their counts and sums, from `payment_days` for the period's
 * whole days where it can (indexGroups). Most groups are Sales
 * and Refunds with their own amount and currency, added up as they are. The
 * rest (Voids, counted at their transaction's amount; payments found voided;
 * an amount or currency known only from the terminal's answer) are read row
 * by row along the totals index, group by group, over the whole period.
 * Groups of one currency at two exponents are added at the larger, exactly.
 * `byDays: false` reads every group from `payments` (the tests compare both).
 */
function totals(db: DatabaseSync | undefined, args: { query: ReadQuery; byDays?: boolean }): TotalsGroup[] {
  if (db === undefined) return [];
  // Its queries read one snapshot: a payment settled between two of them is counted once, never missed or twice.
  if (db.isTransaction) return totalsOf(db, args);
  db.exec('BEGIN');
  try {
    return totalsOf(db, args);
  } finally {
    db.exec('COMMIT');
  }
}

function totalsOf(db: DatabaseSync, args: { query: ReadQuery; byDays?: boolean }): TotalsGroup[] {
  functions(db);
  const { state: _s, result: _r, ...period } = args.query;
  const groups = new Map<string, TotalsGroup>();
  const add = (g: TotalsGroup) => {
    const key = `${g.terminal}\u0000${g.configNode ?? ''}\u0000${g.configNode === null ? 'n' : 'c'}\u0000${g.currency}`;
    const known = groups.get(key);
    groups.set(key, known === undefined ? g : addGroups(known, g));
  };
  const special: Array<[string, string | null, string | null, number | null, string, string, string | null]> = [];
  for (const r of indexGroups(db, period, args.byDays !== false)) {
    const result = paymentResult(r.kind, r.state, r.verdict);
    // Never sent: in no total (left out here rather than in SQL: a condition per row costs more than a group).
    if (result === 'not-sent') continue;
    if (r.kind === 'Void' || r.currency === null || result === 'voided' || (r.n !== r.priced && result === 'approved')) {
      special.push([r.terminal, r.config_node, r.currency, r.exponent === null ? null : Number(r.exponent), r.kind, r.state, r.verdict]);
      continue;
    }
    const sums = blankSums();
    const n = Number(r.n);
    const minor = r.minor ?? 0n;
    if (result === 'open') sums.unknown = n;
    else if (result === 'declined') sums.declined = n;
    else if (r.kind === 'Refund') {
      sums.refundsCount = n;
      sums.refunds = minor.toString();
      sums.net = (-minor).toString();
    } else {
      sums.salesCount = n;
      sums.sales = minor.toString();
      sums.net = minor.toString();
    }
    add({ terminal: r.terminal, configNode: r.config_node, currency: r.currency!, exponent: r.exponent === null ? 2 : Number(r.exponent), ...sums });
  }
  if (special.length > 0) {
    // Row by row, along the index: each group's rows are one range of it (its columns, then the period). Its kind
    // and result are the group's: the rows are counted and summed per currency and voided transaction's kind alone.
    const rowParams: Record<string, string | number> = {
      groups: JSON.stringify(special.map((k) => [...k, k[4] !== 'Void' && paymentResult(k[4], k[5], k[6]) === 'voided' ? 1 : 0])),
    };
    const range = [
      ...(period.from !== undefined ? ['p.opened_at >= :from'] : []),
      ...(period.to !== undefined ? ['p.opened_at < :to'] : []),
    ];
    if (period.from !== undefined) rowParams.from = period.from;
    if (period.to !== undefined) rowParams.to = period.to;
    const g = (i: number) => `json_extract(g.value, '$[${i}]')`;
    const minor = `coalesce(p.amount_minor, t.amount_minor, minor_of(p.answer_amount, coalesce(p.exponent, t.exponent, 2)))`;
    const rowsSql = `
SELECT g.key AS i, coalesce(p.currency, t.currency, p.answer_currency, '') AS currency, coalesce(p.exponent, t.exponent, 2) AS exponent,
  t.kind AS target_kind,
  -- A Sale or Refund found voided, whose void no Void row of the same terminal counts.
  CASE WHEN ${g(7)} THEN NOT EXISTS (
    SELECT 1 FROM payments v INDEXED BY payments_reference WHERE v.kind = 'Void' AND v.reference = p.reference AND v.terminal = p.terminal AND (${RESULT('v')}) = 'voided'
  ) ELSE 0 END AS voided_elsewhere,
  count(*) AS n, count(${minor}) AS priced, sum(${minor}) AS minor
FROM json_each(:groups) g
CROSS JOIN payments p INDEXED BY payments_totals ON p.terminal = ${g(0)} AND p.config_node IS ${g(1)} AND p.currency IS ${g(2)} AND p.exponent IS ${g(3)}
  AND p.kind = ${g(4)} AND p.state = ${g(5)} AND p.verdict IS ${g(6)}${range.map((c) => ` AND ${c}`).join('')}
${TARGET_JOIN}
GROUP BY 1, 2, 3, 4, 5`;
    const rows = statement(db, rowsSql);
    rows.setReadBigInts(true);
    for (const r of rows.all(rowParams) as Array<{ i: bigint; currency: string; exponent: bigint; target_kind: string | null; voided_elsewhere: bigint; n: bigint; priced: bigint; minor: bigint | null }>) {
      const [terminal, configNode, , , kind, state, verdict] = special[Number(r.i)]!;
      const result = paymentResult(kind, state, verdict);
      const n = Number(r.n);
      const m = r.minor ?? 0n;
      const sums = blankSums();
      if (result === 'open') sums.unknown = n;
      else if (result === 'declined') sums.declined = n;
      else {
        sums.unpriced = n - Number(r.priced);
        if (kind === 'Void') {
          sums.voidsCount = n;
          sums.voids = m.toString();
          sums.net = (r.target_kind === 'Refund' ? m : -m).toString();
        } else {
          const refund = kind === 'Refund';
          if (refund) {
            sums.refundsCount = n;
            sums.refunds = m.toString();
          } else {
            sums.salesCount = n;
            sums.sales = m.toString();
          }
          let net = refund ? -m : m;
          if (r.voided_elsewhere === 1n) {
            sums.voidsCount = n;
            sums.voids = m.toString();
            net += refund ? m : -m;
          }
          sums.net = net.toString();
        }
      }
      add({ terminal, configNode, currency: r.currency, exponent: Number(r.exponent), ...sums });
    }
  }
  return [...groups.values()].sort((a, b) => cmp(a.terminal, b.terminal) || cmp(a.currency, b.currency) || cmp(a.configNode ?? '', b.configNode ?? ''));
}

/** Milliseconds in a day of `payment_days` (UTC). */
const DAY_MS = 86_400_000;

/** Connections whose ledger has `payment_days` (schema version 3 or later). */
const withDays = new WeakMap<DatabaseSync, boolean>();

/**
 * The totals index's groups of the payments in a period. A period holding
 * whole days (UTC) is read from `payment_days` for those days' settled
 * payments, along `payments_open` for their open ones, and along
 * `payments_opened` for the part-days at its ends (a group found in more
 * than one is one group). A period holding no whole day is read by time
 * when it holds at most SMALL_PERIOD payments, else along the totals index.
 */
function indexGroups(db: DatabaseSync, period: ReadQuery, byDays: boolean): IndexGroup[] {
  const firstDay = period.from === undefined ? undefined : Math.ceil(period.from / DAY_MS);
  const endDay = period.to === undefined ? undefined : Math.floor(period.to / DAY_MS);
  let days = withDays.get(db);
  if (days === undefined) {
    days = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version) >= 3;
    withDays.set(db, days);
  }
  if (!byDays || !days || (firstDay !== undefined && endDay !== undefined && endDay <= firstDay)) {
    return groupsOf(db, period, smallPeriod(db, period) ? '' : 'INDEXED BY payments_totals');
  }
  const params: Record<string, string | number> = {};
  const clause = where({ terminals: period.terminals }, params);
  const range = [...(firstDay !== undefined ? ['p.day >= :firstDay'] : []), ...(endDay !== undefined ? ['p.day < :endDay'] : [])];
  if (firstDay !== undefined) params.firstDay = firstDay;
  if (endDay !== undefined) params.endDay = endDay;
  const conditions = [...(clause === '' ? [] : [clause.slice('WHERE '.length)]), ...range];
  const daysSql = `
SELECT p.terminal AS terminal, nullif(p.config_node, '') AS config_node, nullif(p.currency, '') AS currency, nullif(p.exponent, -1) AS exponent, p.kind AS kind,
  p.state AS state, nullif(p.verdict, '') AS verdict, sum(p.n) AS n, sum(p.priced) AS priced, sum(p.minor) AS minor
FROM payment_days p
${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
GROUP BY p.terminal, p.config_node, p.currency, p.exponent, p.kind, p.state, p.verdict`;
  const stmt = statement(db, daysSql);
  stmt.setReadBigInts(true);
  // payment_days counts the settled payments; the whole days' open ones (few: an open payment is asked about until it settles) are read here.
  const open: ReadQuery = { ...period, state: 'open' };
  if (firstDay !== undefined) open.from = firstDay * DAY_MS;
  if (endDay !== undefined) open.to = endDay * DAY_MS;
  const parts = [stmt.all(params) as unknown as IndexGroup[], groupsOf(db, open, 'INDEXED BY payments_open')];
  // The part-days before the first whole day and after the last, by time.
  if (firstDay !== undefined && period.from! < firstDay * DAY_MS) parts.push(groupsOf(db, { ...period, to: firstDay * DAY_MS }, 'INDEXED BY payments_opened'));
  if (endDay !== undefined && period.to! > endDay * DAY_MS) parts.push(groupsOf(db, { ...period, from: endDay * DAY_MS }, 'INDEXED BY payments_opened'));
  // A group in the whole days and a part-day is one group: how its payments are counted depends on all of them.
  const merged = new Map<string, IndexGroup>();
  for (const g of parts.flat()) {
    const key = JSON.stringify([g.terminal, g.config_node, g.currency, g.exponent === null ? null : Number(g.exponent), g.kind, g.state, g.verdict]);
    const known = merged.get(key);
    if (known === undefined) merged.set(key, { ...g });
    else {
      known.n += g.n;
      known.priced += g.priced;
      known.minor = known.minor === null && g.minor === null ? null : (known.minor ?? 0n) + (g.minor ?? 0n);
    }
  }
  return [...merged.values()];
}

/** The totals index's groups of the payments in a period, read from `payments` as `by` says. */
function groupsOf(db: DatabaseSync, period: ReadQuery, by: string): IndexGroup[] {
  const params: Record<string, string | number> = {};
  const clause = where(period, params);
  const sql = `
SELECT p.terminal AS terminal, p.config_node AS config_node, p.currency AS currency, p.exponent AS exponent, p.kind AS kind, p.state AS state,
  p.verdict AS verdict, count(*) AS n, count(p.amount_minor) AS priced, sum(p.amount_minor) AS minor
FROM payments p ${by}
${clause}
GROUP BY p.terminal, p.config_node, p.currency, p.exponent, p.kind, p.state, p.verdict`;
  const stmt = statement(db, sql);
  stmt.setReadBigInts(true);
  return stmt.all(params) as unknown as IndexGroup[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Two groups of one terminal and currency added, at the larger exponent (exact). */
export function addGroups(a: TotalsGroup, b: TotalsGroup): TotalsGroup {
  const exponent = Math.max(a.exponent, b.exponent);
  const scale = (g: TotalsGroup, v: string) => (BigInt(v) * 10n ** BigInt(exponent - g.exponent)).toString();
  const add = (k: 'sales' | 'refunds' | 'voids' | 'net') => (BigInt(scale(a, a[k])) + BigInt(scale(b, b[k]))).toString();
  const sums: Sums = {
    salesCount: a.salesCount + b.salesCount,
    sales: add('sales'),
    refundsCount: a.refundsCount + b.refundsCount,
    refunds: add('refunds'),
    voidsCount: a.voidsCount + b.voidsCount,
    voids: add('voids'),
    declined: a.declined + b.declined,
    unknown: a.unknown + b.unknown,
    unpriced: a.unpriced + b.unpriced,
    net: add('net'),
  };
  return { terminal: a.terminal, configNode: a.configNode, currency: a.currency, exponent, ...sums };
}

/** Whether the period holds at most SMALL_PERIOD payments (counted along the time index, stopping past the bound). */
function smallPeriod(db: DatabaseSync, period: ReadQuery): boolean {
  if (period.from === undefined) return false;
  const params: Record<string, number> = { from: period.from, to: period.to ?? Number.MAX_SAFE_INTEGER, cap: SMALL_PERIOD + 1 };
  const row = statement(db, 'SELECT count(*) AS n FROM (SELECT 1 FROM payments INDEXED BY payments_opened WHERE opened_at >= :from AND opened_at < :to LIMIT :cap)').get(params) as { n: number };
  return Number(row.n) <= SMALL_PERIOD;
}

/** How many payments the query matches. */
function count(db: DatabaseSync | undefined, args: { query: ReadQuery }): number {
  if (db === undefined) return 0;
  const params: Record<string, string | number> = {};
  const row = statement(db, `SELECT count(*) AS n FROM payments p ${where(args.query, params)}`).get(params) as { n: number };
  return Number(row.n);
}

const ROW_COLUMNS = `p.rowid AS rowid, p.reference, p.kind, p.terminal, p.config_node, p.node, p.request_id, p.amount_minor, p.currency, p.exponent,
  p.org_reference_id, p.state, p.opened_at, p.closed_at, p.status, p.error_code, p.error_message, p.transaction_status, p.answer_amount,
  p.answer_currency, p.rrn, p.brn, p.transaction_time, p.resolved_by, p.verdict, p.reason,
  t.amount_minor AS t_amount_minor, t.currency AS t_currency, t.exponent AS t_exponent, (${RESULT('p')}) AS result`;

const OUTCOME_COLUMNS: Array<[keyof LedgerOutcome, string]> = [
  ['status', 'status'], ['errorCode', 'error_code'], ['errorMessage', 'error_message'], ['transactionStatus', 'transaction_status'],
  ['amount', 'answer_amount'], ['currency', 'answer_currency'], ['rrn', 'rrn'], ['brn', 'brn'], ['transactionTime', 'transaction_time'],
  ['resolvedBy', 'resolved_by'], ['verdict', 'verdict'], ['reason', 'reason'],
];

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

function rowOf(r: Record<string, unknown>): ReadRow {
  const entry: LedgerEntry = {
    referenceID: String(r.reference),
    action: r.kind as LedgerEntry['action'],
    terminal: String(r.terminal),
    requestID: String(r.request_id),
    state: r.state as LedgerEntry['state'],
    openedAt: iso(r.opened_at),
  };
  if (r.amount_minor !== null) entry.amount = minorToAmount(r.amount_minor as number, r.exponent === null ? 2 : Number(r.exponent));
  if (r.currency !== null) entry.currency = String(r.currency);
  if (r.org_reference_id !== null) entry.orgReferenceID = String(r.org_reference_id);
  if (r.node !== null) entry.node = String(r.node);
  if (r.closed_at !== null) entry.closedAt = iso(r.closed_at);
  const outcome: LedgerOutcome = {};
  let any = false;
  for (const [name, column] of OUTCOME_COLUMNS) {
    const v = r[column];
    if (v === null || v === undefined) continue;
    outcome[name] = String(v);
    any = true;
  }
  // Keys in the journal entry's order.
  const ordered: LedgerEntry = {
    referenceID: entry.referenceID,
    action: entry.action,
    ...(entry.amount !== undefined ? { amount: entry.amount } : {}),
    ...(entry.currency !== undefined ? { currency: entry.currency } : {}),
    ...(entry.orgReferenceID !== undefined ? { orgReferenceID: entry.orgReferenceID } : {}),
    terminal: entry.terminal,
    ...(entry.node !== undefined ? { node: entry.node } : {}),
    requestID: entry.requestID,
    state: entry.state,
    openedAt: entry.openedAt,
    ...(entry.closedAt !== undefined ? { closedAt: entry.closedAt } : {}),
    ...(any ? { outcome } : {}),
  };
  const row: ReadRow = { entry: ordered, result: r.result as EntryResult, configNode: r.config_node === null ? null : String(r.config_node) };
  if (r.kind === 'Void' && (r.t_amount_minor !== null || r.t_currency !== null)) {
    row.voided = {
      ...(r.t_amount_minor !== null ? { amount: minorToAmount(r.t_amount_minor as number, r.t_exponent === null ? 2 : Number(r.t_exponent)) } : {}),
      ...(r.t_currency !== null ? { currency: String(r.t_currency) } : {}),
    };
  }
  return row;
}

export interface PageArgs {
  query: ReadQuery;
  /** newest: newest first (a list); oldest: oldest first (a CSV). */
  order: 'newest' | 'oldest';
  /** Start after this row (the previous page's `next`). */
  after?: ReadCursor;
  limit: number;
}

function pageRows(db: DatabaseSync, args: PageArgs): { rows: Array<Record<string, unknown>>; next?: ReadCursor } {
  const params: Record<string, string | number> = {};
  let clause = where(args.query, params);
  const newest = args.order === 'newest';
  if (args.after !== undefined) {
    clause += `${clause === '' ? 'WHERE' : ' AND'} (p.opened_at, p.rowid) ${newest ? '<' : '>'} (:afterAt, :afterId)`;
    params.afterAt = args.after[0];
    params.afterId = args.after[1];
  }
  params.limit = args.limit;
  const dir = newest ? 'DESC' : 'ASC';
  const rows = statement(db, `SELECT ${ROW_COLUMNS} FROM payments p ${TARGET_JOIN} ${clause} ORDER BY p.opened_at ${dir}, p.rowid ${dir} LIMIT :limit`).all(params) as Array<Record<string, unknown>>;
  const last = rows[rows.length - 1];
  return { rows, ...(rows.length === args.limit && last !== undefined ? { next: [Number(last.opened_at), Number(last.rowid)] as ReadCursor } : {}) };
}

/** One page of the matching payments, in the order asked; `next` where more may follow. */
function page(db: DatabaseSync | undefined, args: PageArgs): { rows: ReadRow[]; next?: ReadCursor } {
  if (db === undefined) return { rows: [] };
  const { rows, next } = pageRows(db, args);
  return { rows: rows.map(rowOf), ...(next !== undefined ? { next } : {}) };
}

/** The cells of a payment's CSV line (see JOURNAL_CSV_COLUMNS). */
export function csvCells(row: ReadRow): unknown[] {
  const e = row.entry;
  const o = e.outcome ?? {};
  const cells: Record<(typeof JOURNAL_CSV_COLUMNS)[number], unknown> = {
    openedAt: e.openedAt,
    closedAt: e.closedAt,
    terminal: e.terminal,
    action: e.action,
    referenceID: e.referenceID,
    orgReferenceID: e.orgReferenceID,
    amount: e.amount ?? o.amount,
    currency: e.currency ?? o.currency,
    state: e.state,
    result: row.result,
    reason: o.reason,
    transactionStatus: o.transactionStatus,
    errorCode: o.errorCode,
    errorMessage: o.errorMessage,
    rrn: o.rrn,
    brn: o.brn,
    transactionTime: o.transactionTime,
    requestID: e.requestID,
  };
  return JOURNAL_CSV_COLUMNS.map((c) => cells[c]);
}

/** One page of the CSV (lines with CRLF ends, the header row first when there is no `after`). */
function csvPage(db: DatabaseSync | undefined, args: PageArgs): { text: string; rows: number; next?: ReadCursor } {
  let text = args.after === undefined ? `${JOURNAL_CSV_COLUMNS.join(',')}\r\n` : '';
  if (db === undefined) return { text, rows: 0 };
  const { rows, next } = pageRows(db, args);
  for (const r of rows) text += `${csvLine(csvCells(rowOf(r)))}\r\n`;
  return { text, rows: rows.length, ...(next !== undefined ? { next } : {}) };
}

/** The queries the reader worker runs, by name. */
export const READ_OPS = { totals, count, page, csvPage };
export type ReadOps = typeof READ_OPS;
