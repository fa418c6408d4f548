/**
 * A payment as the session sees it (JournalEntry) and as the ledger stores
 * it (a `payments` row): amounts as exact strings ("12.30") on one side,
 * integer minor units with the exponent on the other; times as ISO strings
 * on one side, integer milliseconds on the other.
 */
import type { PaymentAction } from '../protocol';

/** Actions the ledger keeps: the ones that move money. */
export type JournalAction = PaymentAction;

/**
 * `open`: sent (or about to be), outcome unknown. `Success` / `Failed`: settled.
 * `NotSent`: never left this host (not connected, or refused before sending);
 * the same referenceID may be used again.
 */
export type JournalState = 'open' | 'Success' | 'Failed' | 'NotSent';

/** What the ledger keeps of a terminal's answer: no card data. */
export interface JournalOutcome {
  status?: string;
  errorCode?: string;
  errorMessage?: string;
  transactionStatus?: string;
  amount?: string;
  currency?: string;
  rrn?: string;
  brn?: string;
  transactionTime?: string;
  resolvedBy?: string;
  /** The outcome module's verdict and reason (approved, declined, voided; reference-taken, …). */
  verdict?: string;
  reason?: string;
}

export interface JournalEntry {
  /** Sale / Refund: its referenceID. Void: the voided transaction's referenceID. */
  referenceID: string;
  action: JournalAction;
  amount?: string;
  currency?: string;
  orgReferenceID?: string;
  customerOrderID?: string;
  /** The terminal's name the payment was made under: its place (serial port, LAN host and port, cloud device) or a caller's name. */
  terminal: string;
  /** The terminal's config node. */
  configNode?: string;
  /** The terminal's serial number, when known as the payment began. */
  deviceSn?: string;
  /** Where the terminal was reached (port, host:port, cloud device), as shown to people. */
  address?: string;
  /** The node that started it, to emit a recovered outcome from. */
  node?: string;
  requestID: string;
  state: JournalState;
  openedAt: string;
  closedAt?: string;
  outcome?: JournalOutcome;
  /** When the outcome reached the flow (so a settlement is emitted once across restarts). */
  deliveredAt?: string;
}

const OUTCOME_FIELDS: ReadonlyArray<keyof JournalOutcome> = [
  'status', 'errorCode', 'errorMessage', 'transactionStatus', 'amount', 'currency', 'rrn', 'brn', 'transactionTime',
];

/** Keeps only the ledger's fields of a response body (never card data). */
export function journalOutcome(body: unknown, resolvedBy?: string, decision?: { verdict: string; reason: string }): JournalOutcome {
  const out: JournalOutcome = {};
  if (typeof body === 'object' && body !== null) {
    for (const key of OUTCOME_FIELDS) {
      const value = (body as Record<string, unknown>)[key];
      if (typeof value === 'string') out[key] = value.slice(0, 256);
    }
  }
  if (resolvedBy !== undefined) out.resolvedBy = resolvedBy;
  if (decision !== undefined) {
    out.verdict = decision.verdict;
    out.reason = decision.reason;
  }
  return out;
}

/**
 * A Void's key: `Void/<referenceID>`. A referenceID never holds a `/`
 * (lib/protocol/validate.ts), so no Sale or Refund shares a Void's key.
 */
const VOID_KEY = 'Void/';

/** The key an action's payment is kept under: Sale / Refund by referenceID, Void by `Void/<referenceID>`. */
export function journalKey(action: JournalAction, referenceID: string): string {
  return action === 'Void' ? `${VOID_KEY}${referenceID}` : referenceID;
}

/** The referenceID a key names (a Void's: the transaction it voids). */
export function referenceOfKey(key: string): string {
  return key.startsWith(VOID_KEY) ? key.slice(VOID_KEY.length) : key;
}

const AMOUNT = /^(\d{1,15})(?:\.(\d{1,6}))?$/;

/** An amount string as integer minor units and its exponent (the decimals written): "12.30" → 1230, 2. */
export function amountToMinorUnits(value: string | undefined): { minor: number; exponent: number } | undefined {
  if (value === undefined) return undefined;
  const m = AMOUNT.exec(value.trim());
  if (m === null) return undefined;
  const decimals = m[2] ?? '';
  const minor = Number(m[1]! + decimals);
  return Number.isSafeInteger(minor) ? { minor, exponent: decimals.length } : undefined;
}

/** Minor units and exponent back to the amount string (1230, 2 → "12.30"). */
export function minorUnitsToAmount(minor: number, exponent: number): string {
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const frac = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${frac}` : ''}`;
}

/** A `payments` row as node:sqlite returns it. */
export interface PaymentRow {
  key: string;
  reference: string;
  kind: string;
  terminal: string;
  config_node: string | null;
  device_sn: string | null;
  address: string | null;
  node: string | null;
  request_id: string;
  amount_minor: number | null;
  currency: string | null;
  exponent: number | null;
  customer_order_id: string | null;
  org_reference_id: string | null;
  state: string;
  opened_at: number;
  closed_at: number | null;
  status: string | null;
  error_code: string | null;
  error_message: string | null;
  transaction_status: string | null;
  answer_amount: string | null;
  answer_currency: string | null;
  rrn: string | null;
  brn: string | null;
  transaction_time: string | null;
  resolved_by: string | null;
  verdict: string | null;
  reason: string | null;
  delivered_at: number | null;
}

/** Outcome fields and their columns. */
const OUTCOME_COLUMNS: ReadonlyArray<[keyof JournalOutcome, keyof PaymentRow]> = [
  ['status', 'status'],
  ['errorCode', 'error_code'],
  ['errorMessage', 'error_message'],
  ['transactionStatus', 'transaction_status'],
  ['amount', 'answer_amount'],
  ['currency', 'answer_currency'],
  ['rrn', 'rrn'],
  ['brn', 'brn'],
  ['transactionTime', 'transaction_time'],
  ['resolvedBy', 'resolved_by'],
  ['verdict', 'verdict'],
  ['reason', 'reason'],
];

/** The outcome columns' values of an outcome (null where it has none). */
export function outcomeColumns(outcome: JournalOutcome | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [field, column] of OUTCOME_COLUMNS) out[column] = outcome?.[field] ?? null;
  return out;
}

function ms(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** A payment as a row's values (named parameters, without the `:`). */
export function rowOfEntry(e: JournalEntry): Record<string, string | number | null> {
  const units = amountToMinorUnits(e.amount);
  return {
    key: journalKey(e.action, e.referenceID),
    reference: e.referenceID,
    kind: e.action,
    terminal: e.terminal,
    config_node: e.configNode ?? null,
    device_sn: e.deviceSn ?? null,
    address: e.address ?? null,
    node: e.node ?? null,
    request_id: e.requestID,
    amount_minor: units?.minor ?? null,
    currency: e.currency ?? null,
    exponent: units?.exponent ?? null,
    customer_order_id: e.customerOrderID ?? null,
    org_reference_id: e.orgReferenceID ?? null,
    state: e.state,
    opened_at: ms(e.openedAt) ?? Date.now(),
    closed_at: ms(e.closedAt),
    ...outcomeColumns(e.outcome),
    delivered_at: ms(e.deliveredAt),
  };
}

/** A row back as the session's entry (only the fields that have a value). */
export function entryOfRow(r: PaymentRow): JournalEntry {
  const e: JournalEntry = {
    referenceID: r.reference,
    action: r.kind as JournalAction,
    terminal: r.terminal,
    requestID: r.request_id,
    state: r.state as JournalState,
    openedAt: new Date(r.opened_at).toISOString(),
  };
  if (r.amount_minor !== null) e.amount = minorUnitsToAmount(r.amount_minor, r.exponent ?? 0);
  if (r.currency !== null) e.currency = r.currency;
  if (r.org_reference_id !== null) e.orgReferenceID = r.org_reference_id;
  if (r.customer_order_id !== null) e.customerOrderID = r.customer_order_id;
  if (r.config_node !== null) e.configNode = r.config_node;
  if (r.device_sn !== null) e.deviceSn = r.device_sn;
  if (r.address !== null) e.address = r.address;
  if (r.node !== null) e.node = r.node;
  if (r.closed_at !== null) e.closedAt = new Date(r.closed_at).toISOString();
  if (r.delivered_at !== null) e.deliveredAt = new Date(r.delivered_at).toISOString();
  const outcome: JournalOutcome = {};
  let any = false;
  for (const [field, column] of OUTCOME_COLUMNS) {
    const v = r[column];
    if (typeof v === 'string') {
      outcome[field] = v;
      any = true;
    }
  }
  if (any) e.outcome = outcome;
  return e;
}
