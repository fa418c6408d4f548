/**
 * What a terminal's answer means for a payment: one table, pure functions,
 * no I/O. Every place that must know whether a Sale, Refund or Void was
 * approved, declined or voided asks here.
 *
 * Two kinds of evidence are read:
 * - the payment's own answer (matched to the request by responseID), and
 * - a TransactionStatus lookup of the payment's reference, which settles the
 *   payment only when it describes that very payment.
 *
 * Either is evidence only when every identifying field it carries agrees
 * exactly with what was sent (IDENTIFYING_FIELDS): referenceID,
 * customerOrderID, kind, amount (to the last digit), currency and
 * orgReferenceID (case and all). One that names another payment settles
 * nothing.
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
  | 'another-payment'
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
  /** Sale: the customerOrderID it was sent with (none sent: an answer carrying one names another payment). */
  customerOrderID?: string;
  /** Refund: the sale it refunds. */
  orgReferenceID?: string;
  /** Void: what is known of the voided transaction (from the journal), to compare a lookup with. */
  target?: { action?: 'Sale' | 'Refund'; amount?: string; currency?: string; customerOrderID?: string; orgReferenceID?: string };
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
   * kind, amount, currency, customerOrderID or original): the reference is
   * taken, and this payment was not carried out under it.
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

/** The fields that name a payment: an answer or lookup carrying any of them must agree on each. */
export const IDENTIFYING_FIELDS = ['referenceID', 'customerOrderID', 'transactionType', 'orgReferenceID', 'amount', 'currency'] as const;
export type IdentifyingField = (typeof IDENTIFYING_FIELDS)[number];

/**
 * What a body must say of each identifying field to be about the payment:
 * a string (it must be exactly that, where carried), `null` (nothing of it
 * was sent: carrying one names another payment), or undefined (not known:
 * not compared). `transactionType` lists the kinds that fit.
 */
type Expected = { [F in Exclude<IdentifyingField, 'transactionType'>]?: string | null } & { transactionType?: ReadonlyArray<'Sale' | 'Refund' | 'Void'> };

function carries(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Compares what a body says of a field with what is expected; absent in the body is `absent`. */
function compare(body: Record<string, unknown>, field: IdentifyingField, expected: Expected): 'same' | 'absent' | 'differs' {
  if (field === 'transactionType') {
    const kind = statedKind(body);
    if (kind === undefined) return 'absent';
    return expected.transactionType === undefined || (kind !== 'other' && expected.transactionType.includes(kind)) ? 'same' : 'differs';
  }
  const raw = body[field];
  if (!carries(raw)) return 'absent';
  const want = expected[field];
  if (want === undefined) return 'same';
  if (want === null) return 'differs';
  // Amounts: canonical decimal strings, to the last digit (never floats). Every other field: the very text, case and all.
  if (field === 'amount') return canonicalAmount(raw) !== undefined && canonicalAmount(raw) === canonicalAmount(want) ? 'same' : 'differs';
  return raw === want ? 'same' : 'differs';
}

/** The first identifying field a body carries that disagrees with what is expected. */
function firstDiffering(body: Record<string, unknown>, expected: Expected): IdentifyingField | undefined {
  return IDENTIFYING_FIELDS.find((field) => compare(body, field, expected) === 'differs');
}

/** What a Sale's or Refund's answer or lookup must say: what was sent. */
function expectedOfPayment(asked: Asked): Expected {
  return {
    referenceID: asked.referenceID,
    customerOrderID: asked.action === 'Sale' ? (asked.customerOrderID ?? null) : null,
    transactionType: [asked.action],
    amount: asked.amount,
    currency: asked.currency,
    orgReferenceID: asked.action === 'Refund' ? asked.orgReferenceID : null,
  };
}

/** What a lookup of a voided transaction must say: that transaction, as far as the journal knows it. */
function expectedOfTarget(asked: Asked): Expected {
  const target = asked.target;
  if (target === undefined) return { referenceID: asked.referenceID };
  const expected: Expected = { referenceID: asked.referenceID, amount: target.amount, currency: target.currency };
  if (target.action !== undefined) {
    expected.transactionType = [target.action];
    expected.customerOrderID = target.action === 'Sale' ? (target.customerOrderID ?? null) : null;
    expected.orgReferenceID = target.action === 'Refund' ? target.orgReferenceID : null;
  }
  return expected;
}

/** What a Void's own answer may say: the void (or the voided transaction) and the reference it was sent with. */
function expectedOfVoidAnswer(asked: Asked): Expected {
  const target = asked.target;
  return {
    referenceID: asked.referenceID,
    transactionType: target?.action === undefined ? ['Void', 'Sale', 'Refund'] : ['Void', target.action],
    amount: target?.amount,
    currency: target?.currency,
    customerOrderID: target?.customerOrderID,
    orgReferenceID: asked.referenceID,
  };
}

/** Whether the body carries one of `fields` with the very value expected (a value not known, or none sent, names nothing). */
function names(body: Record<string, unknown>, expected: Expected, fields: ReadonlyArray<'referenceID' | 'customerOrderID' | 'orgReferenceID'>): boolean {
  return fields.some((field) => typeof expected[field] === 'string' && compare(body, field, expected) === 'same');
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
 * | Success | absent / Success    | approved (Void: voided), if every identifying field it carries agrees; else unknown (contradiction) |
 * | Success | Failed / Voided     | unknown (contradiction)                     |
 * | Failed  | Success / Voided    | unknown (contradiction)                     |
 * | Failed  | absent / Failed     | declined (Void: void-refused), if every identifying field it carries agrees; "reference used" → unknown; "abort"/"cancel" → reason aborted |
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
    const differs = firstDiffering(body, asked.action === 'Void' ? expectedOfVoidAnswer(asked) : expectedOfPayment(asked));
    if (differs !== undefined) return unknown('contradiction', differs);
    if (asked.action === 'Void') return { verdict: 'voided', reason: 'voided' };
    return { verdict: 'approved', reason: 'approved' };
  }
  if (status === 'Failed') {
    if (state === 'Success' || state === 'Voided') return unknown('contradiction', 'transactionStatus');
    // The terminal knows an earlier transaction under this reference: its books, not this refusal, say what happened.
    if (mentions(body, REFERENCE_USED_WORDS)) return unknown('reference-used');
    const differs = firstDiffering(body, asked.action === 'Void' ? expectedOfVoidAnswer(asked) : expectedOfPayment(asked));
    if (differs !== undefined) return unknown('contradiction', differs);
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
 * - every identifying field it carries agrees with what was sent: its
 *   referenceID; the Sale's customerOrderID (none sent: none carried); its
 *   kind; amount; currency; the Refund's orgReferenceID (a Sale: none);
 * - Sale and Refund: amount and currency present;
 * - it names the payment: its referenceID, or a Sale's customerOrderID (every
 *   Sale is sent with one), or a Refund's orgReferenceID;
 * - Void: the voided transaction, compared with what is known of it, and
 *   named by its reference or customer order (or a refund's sale).
 * A lookup that names another reference is about another payment (unknown,
 * another-payment); one that describes another transaction under this
 * reference is a conflict (reference taken); anything missing leaves the
 * verdict unknown.
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

  // Does it describe this payment? A lookup that names another reference is about another payment: it tells nothing of this one.
  if (compare(body, 'referenceID', { referenceID: asked.referenceID }) === 'differs') return unknown('another-payment', 'referenceID');
  if (asked.action === 'Void') {
    const target = expectedOfTarget(asked);
    const differs = firstDiffering(body, target);
    if (differs !== undefined) return conflict(differs);
    if (!names(body, target, ['referenceID', 'customerOrderID', 'orgReferenceID'])) return unknown('no-evidence', 'referenceID');
    if (state === 'Voided') return { verdict: 'voided', reason: 'voided' };
    if (state === 'Failed') return { verdict: 'declined', reason: 'nothing-to-void' };
    return unknown('not-yet-voided');
  }
  const expected = expectedOfPayment(asked);
  const differs = firstDiffering(body, expected);
  if (differs !== undefined) return conflict(differs);
  let missing: string | undefined;
  for (const field of ['amount', 'currency'] as const) {
    if (compare(body, field, expected) === 'absent') missing ??= field;
  }
  if (missing !== undefined) return unknown('no-evidence', missing);
  // It must name this payment, not only resemble it: a terminal that answers with its last transaction
  // (another sale of the same amount) names none. A Sale by its reference or customer order, a Refund by its reference or its sale.
  if (!names(body, expected, asked.action === 'Sale' ? ['referenceID', 'customerOrderID'] : ['referenceID', 'orgReferenceID'])) {
    return unknown('no-evidence', asked.action === 'Sale' ? 'customerOrderID' : 'orgReferenceID');
  }
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
