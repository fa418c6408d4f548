/**
 * What a terminal's answer means for a payment: one table, pure functions,
 * no I/O. Every place that must know whether a Sale, Refund or Void was
 * approved, declined or voided asks here.
 *
 * Two kinds of evidence are read:
 * - the payment's own answer (matched to the request by responseID), and
 * - a TransactionStatus lookup of the payment's reference, which settles the
 *   payment only when it describes that very payment: same kind, amount,
 *   currency and original reference.
 *
 * When in doubt the verdict is `unknown`: the caller asks TransactionStatus
 * (same reference) until the deadline, and never sends the payment again.
 */
import { canonicalAmount, isRecord } from './validate';

export type PaymentAction = 'Sale' | 'Refund' | 'Void';
export type Verdict = 'approved' | 'declined' | 'voided' | 'unknown';

/** Why a verdict was reached: stable words, for logs, `msg.wonder.reason` and tests. */
export type Reason =
  | 'approved'
  | 'declined'
  | 'aborted'
  | 'terminal-busy'
  | 'voided'
  | 'void-refused'
  | 'nothing-to-void'
  | 'pending'
  | 'not-yet-voided'
  | 'contradiction'
  | 'reference-used'
  | 'reference-taken'
  | 'wrong-action'
  | 'malformed'
  | 'lookup-failed'
  | 'no-transaction-state'
  | 'no-evidence';

/** What was asked: the payment as it was sent. */
export interface Asked {
  action: PaymentAction;
  /** Sale / Refund: its own reference. Void: the voided transaction's reference. */
  referenceID: string;
  amount?: string;
  currency?: string;
  /** Refund: the sale it refunds. */
  orgReferenceID?: string;
  /** Void: what is known of the voided transaction (from the journal), to compare a lookup with. */
  target?: { action?: 'Sale' | 'Refund'; amount?: string; currency?: string };
}

/** A terminal answer: the envelope's action and the decrypted body. */
export interface Answer {
  /** The envelope's `action`, where the transport keeps it. */
  action?: string;
  body: unknown;
}

export interface Decision {
  verdict: Verdict;
  reason: Reason;
  /**
   * The lookup describes another transaction under this reference (another
   * kind, amount, currency or original): the reference is taken, and this
   * payment was not carried out under it.
   */
  conflict?: true;
  /** Which field gave the conflict or contradiction away. */
  field?: string;
}

/** Longest text read from a terminal's message fields (they are matched, never parsed). */
export const MAX_MATCHED_TEXT = 256;

const FINAL_STATES = ['Success', 'Failed', 'Voided'] as const;
type FinalState = (typeof FINAL_STATES)[number];


function text(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, MAX_MATCHED_TEXT).toLowerCase() : '';
}

/** Substring tests only: linear in the (capped) text, no backtracking. */
function mentions(body: Record<string, unknown>, words: readonly string[]): boolean {
  const said = `${text(body.errorCode)} ${text(body.errorMessage)}`;
  return words.some((w) => said.includes(w));
}

const REFERENCE_USED_WORDS = ['duplicate', 'reference used', 'referenceid used', 'reference id used', 'already used', 'already exist', 'reference exist'];
const BUSY_WORDS = ['busy', 'being traded', 'in progress', 'ongoing'];
/** A payment cancelled at the terminal (an Abort from the ECR, the cardholder's Cancel): declined, no money moved, reason `aborted`. */
const ABORT_WORDS = ['abort', 'cancel'];

/** A response's `status`: Success, Failed or Pending only (Voided is a transaction's state, never a status). */
function responseStatus(value: unknown): 'Success' | 'Failed' | 'Pending' | undefined {
  return value === 'Success' || value === 'Failed' || value === 'Pending' ? value : undefined;
}

function finalState(value: unknown): FinalState | 'Pending' | undefined {
  if (value === 'Pending') return 'Pending';
  return (FINAL_STATES as readonly unknown[]).includes(value) ? (value as FinalState) : undefined;
}

/** The kind of transaction a body says it is, where it says so. */
function statedKind(body: Record<string, unknown>): 'Sale' | 'Refund' | 'Void' | 'other' | undefined {
  for (const key of ['transactionType', 'transactionAction', 'tradeType', 'type', 'action']) {
    const value = text(body[key]);
    if (value === '') continue;
    if (value === 'sale' || value === 'purchase' || value === 'payment') return 'Sale';
    if (value === 'refund') return 'Refund';
    if (value === 'void' || value === 'cancel') return 'Void';
    return 'other';
  }
  return undefined;
}

/** Compares what a body says of a field with what was asked; absent in the body is `absent`. */
function compare(body: Record<string, unknown>, field: 'amount' | 'currency', asked: string | undefined): 'same' | 'absent' | 'differs' {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === '') return 'absent';
  if (asked === undefined) return 'same';
  if (field === 'amount') return canonicalAmount(raw) === canonicalAmount(asked) ? 'same' : 'differs';
  return typeof raw === 'string' && raw.toUpperCase() === asked.toUpperCase() ? 'same' : 'differs';
}

const unknown = (reason: Reason, field?: string): Decision => (field === undefined ? { verdict: 'unknown', reason } : { verdict: 'unknown', reason, field });
const conflict = (field: string): Decision => ({ verdict: 'unknown', reason: 'reference-taken', conflict: true, field });

/**
 * The payment's own answer (already matched to its request by responseID).
 *
 * | status  | transactionStatus   | verdict                                     |
 * |---------|---------------------|---------------------------------------------|
 * | Pending | any                 | unknown (pending)                           |
 * | any     | Pending             | unknown (pending)                           |
 * | Success | absent / Success    | approved (Void: voided), if amount, currency and orgReferenceID, where given, agree |
 * | Success | Failed / Voided     | unknown (contradiction)                     |
 * | Failed  | Success / Voided    | unknown (contradiction)                     |
 * | Failed  | absent / Failed     | declined (Void: void-refused); "reference used" → unknown; "abort"/"cancel" → reason aborted |
 * | other   |                     | unknown (malformed)                         |
 */
export function decideAnswer(asked: Asked, answer: Answer): Decision {
  if (answer.action !== undefined && answer.action !== asked.action) return unknown('wrong-action');
  const body = answer.body;
  if (!isRecord(body)) return unknown('malformed');
  const status = responseStatus(body.status);
  const state = body.transactionStatus === undefined || body.transactionStatus === '' ? undefined : finalState(body.transactionStatus);
  if (body.transactionStatus !== undefined && body.transactionStatus !== '' && state === undefined) return unknown('malformed', 'transactionStatus');
  if (status === 'Pending' || state === 'Pending') return unknown('pending');
  if (status === 'Success') {
    if (state !== undefined && state !== 'Success') return unknown('contradiction', 'transactionStatus');
    if (asked.action === 'Void') return { verdict: 'voided', reason: 'voided' };
    for (const field of ['amount', 'currency'] as const) {
      if (compare(body, field, asked[field]) === 'differs') return unknown('contradiction', field);
    }
    if (asked.action === 'Refund' && typeof body.orgReferenceID === 'string' && body.orgReferenceID !== '' && body.orgReferenceID !== asked.orgReferenceID) {
      return unknown('contradiction', 'orgReferenceID');
    }
    return { verdict: 'approved', reason: 'approved' };
  }
  if (status === 'Failed') {
    if (state === 'Success' || state === 'Voided') return unknown('contradiction', 'transactionStatus');
    // The terminal knows an earlier transaction under this reference: its books, not this refusal, say what happened.
    if (mentions(body, REFERENCE_USED_WORDS)) return unknown('reference-used');
    if (asked.action === 'Void') return { verdict: 'declined', reason: 'void-refused' };
    return { verdict: 'declined', reason: mentions(body, BUSY_WORDS) ? 'terminal-busy' : mentions(body, ABORT_WORDS) ? 'aborted' : 'declined' };
  }
  return unknown('malformed', 'status');
}

/**
 * A TransactionStatus lookup of the payment's reference.
 *
 * The lookup must have run (`status` not Failed or Pending unless it agrees
 * with a final `transactionStatus`), must give the transaction's final state,
 * and must describe this payment:
 * - Sale: amount and currency present and equal; no other kind stated; no orgReferenceID.
 * - Refund: amount and currency present and equal; its orgReferenceID, or a stated kind Refund.
 * - Void: the voided transaction, compared with what is known of it.
 * Anything that describes another transaction is a conflict (reference taken);
 * anything missing leaves the verdict unknown.
 */
export function decideLookup(asked: Asked, answer: Answer): Decision {
  if (answer.action !== undefined && answer.action !== 'TransactionStatus') return unknown('wrong-action');
  const body = answer.body;
  if (!isRecord(body)) return unknown('malformed');
  const status = responseStatus(body.status);
  const rawState = body.transactionStatus;
  const state = rawState === undefined || rawState === '' ? undefined : finalState(rawState);
  if (status === 'Pending' || state === 'Pending') return unknown('pending');
  if (state === undefined) return unknown(status === 'Failed' ? 'lookup-failed' : 'no-transaction-state');
  if (status === 'Failed' && state !== 'Failed') return unknown('lookup-failed');
  if (status === undefined) return unknown('malformed', 'status');

  // Does it describe this payment?
  const kind = statedKind(body);
  const org = typeof body.orgReferenceID === 'string' && body.orgReferenceID !== '' ? body.orgReferenceID : undefined;
  if (asked.action === 'Void') {
    const target = asked.target ?? {};
    if (kind !== undefined && target.action !== undefined && kind !== target.action) return conflict('transactionType');
    for (const field of ['amount', 'currency'] as const) {
      if (compare(body, field, target[field]) === 'differs') return conflict(field);
    }
    if (state === 'Voided') return { verdict: 'voided', reason: 'voided' };
    if (state === 'Failed') return { verdict: 'declined', reason: 'nothing-to-void' };
    return unknown('not-yet-voided');
  }
  if (kind !== undefined && kind !== asked.action) return conflict('transactionType');
  if (asked.action === 'Sale' && org !== undefined) return conflict('orgReferenceID');
  if (asked.action === 'Refund' && org !== undefined && org !== asked.orgReferenceID) return conflict('orgReferenceID');
  let missing: string | undefined;
  for (const field of ['amount', 'currency'] as const) {
    const seen = compare(body, field, asked[field]);
    if (seen === 'differs') return conflict(field);
    if (seen === 'absent') missing ??= field;
  }
  if (missing !== undefined) return unknown('no-evidence', missing);
  if (asked.action === 'Refund' && org === undefined && kind !== 'Refund') return unknown('no-evidence', 'orgReferenceID');
  if (state === 'Success') return { verdict: 'approved', reason: 'approved' };
  if (state === 'Failed') return { verdict: 'declined', reason: mentions(body, ABORT_WORDS) ? 'aborted' : 'declined' };
  return { verdict: 'voided', reason: 'voided' };
}

/**
 * What a lookup says of a transaction when nothing is known of it (the
 * status node asking about a reference the journal does not hold): its final
 * state when the lookup ran and agrees with itself, `Pending` while it is
 * pending, otherwise undefined (the lookup settled nothing).
 */
export function lookupState(body: unknown): FinalState | 'Pending' | undefined {
  if (!isRecord(body)) return undefined;
  const status = responseStatus(body.status);
  const state = body.transactionStatus === undefined || body.transactionStatus === '' ? undefined : finalState(body.transactionStatus);
  if (status === 'Pending' || state === 'Pending') return 'Pending';
  if (state === undefined || status === undefined) return undefined;
  if (status === 'Failed' && state !== 'Failed') return undefined;
  return state;
}

/** Whether a verdict settles the payment. */
export function isSettled(decision: Decision): decision is Decision & { verdict: 'approved' | 'declined' | 'voided' } {
  return decision.verdict !== 'unknown';
}

/**
 * The result word a flow switches on (`msg.wonder.result`), kept as before:
 * Success when the money moved as asked (a Void: when the void was applied),
 * Failed when it did not (a voided sale took no money).
 */
export function resultOf(action: PaymentAction, verdict: Exclude<Verdict, 'unknown'>): 'Success' | 'Failed' {
  if (action === 'Void') return verdict === 'voided' ? 'Success' : 'Failed';
  return verdict === 'approved' ? 'Success' : 'Failed';
}
