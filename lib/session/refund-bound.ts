import { amountUnits, type Asked, unitsToAmount, ValidationError } from '../protocol';
import type { JournalState } from './journal';

/**
 * Why a refund is refused before it leaves (the rule's i18n key in the
 * nodes: `errors.rule.<rule>`).
 */
export type RefundRule =
  | 'refundUnknownSale'
  | 'refundOfNotASale'
  | 'refundOfOpenSale'
  | 'refundOfDeclinedSale'
  | 'refundOfVoidedSale'
  | 'refundCurrency'
  | 'refundBeyondSale';

/** A transaction as the ledger knows it (journal entry, or a payment queued or in flight: `queued`). */
export interface KnownPayment {
  referenceID: string;
  action: 'Sale' | 'Refund' | 'Void';
  amount?: string;
  currency?: string;
  state: JournalState | 'queued';
  /** The outcome module's verdict, where recorded (a sale that a lookup found voided is Failed, verdict voided). */
  verdict?: string;
}

/** What the ledger knows of the sale a refund names. */
export interface RefundBasis {
  /** The sale (its entry), or undefined when the ledger does not know it. */
  sale: KnownPayment | undefined;
  /** A Void of the sale: its state (Success: voided; open or queued: under way). */
  voidOfSale: JournalState | 'queued' | undefined;
  /** The other refunds of the sale, each with the state of a Void of it, if any. */
  refunds: Array<KnownPayment & { voided: JournalState | 'queued' | undefined }>;
}

/** A refund refused unsent: E_VALIDATION naming the field, with the rule it broke. */
export class RefundRefusedError extends ValidationError {
  readonly rule: RefundRule;
  constructor(field: 'orgReferenceID' | 'currency' | 'amount', rule: RefundRule, message: string) {
    super(field, message);
    this.name = 'RefundRefusedError';
    this.rule = rule;
  }
}

/** A state in which a payment's money has moved, or may have: approved, or not settled yet. */
function moneyMayHaveMoved(state: JournalState | 'queued'): boolean {
  return state === 'Success' || state === 'open' || state === 'queued';
}

/**
 * Whether a refund may go out, from what the ledger knows of its sale
 * (pure: no journal, no I/O). Throws RefundRefusedError (E_VALIDATION, naming
 * `orgReferenceID`, `currency` or `amount`) when:
 * - the sale is unknown, unless `allowUnknownSale` (a sale taken elsewhere);
 * - it is no sale (a refund, a void), was never sent, was declined, is still
 *   open (its outcome unknown), or was voided (or a void of it is under way);
 * - the refund is in another currency than the sale;
 * - the refund is more than the sale's amount less its other refunds that
 *   are approved or may be (open, queued; a refund voided since gives its
 *   money back).
 * Amounts are summed exactly (amountUnits), never in floating point.
 */
export function checkRefund(asked: Asked, basis: RefundBasis, allowUnknownSale: boolean): void {
  const org = asked.orgReferenceID!;
  const { sale } = basis;
  if (sale === undefined) {
    if (allowUnknownSale) return;
    throw new RefundRefusedError('orgReferenceID', 'refundUnknownSale', `${org} is no sale this terminal's journal knows; a refund of a sale taken elsewhere needs the refund node's "refunds of sales the journal does not know" option (CLI: --refund-unknown-sale)`);
  }
  if (sale.action !== 'Sale') throw new RefundRefusedError('orgReferenceID', 'refundOfNotASale', `${org} is a ${sale.action}, not a sale`);
  if (sale.state === 'NotSent') throw new RefundRefusedError('orgReferenceID', 'refundOfDeclinedSale', `sale ${org} was never sent: there is nothing to refund`);
  if (sale.state === 'open' || sale.state === 'queued') throw new RefundRefusedError('orgReferenceID', 'refundOfOpenSale', `the outcome of sale ${org} is not known yet: refund it once it is settled`);
  if (sale.verdict === 'voided' || basis.voidOfSale === 'Success') throw new RefundRefusedError('orgReferenceID', 'refundOfVoidedSale', `sale ${org} was voided: there is nothing to refund`);
  if (basis.voidOfSale === 'open' || basis.voidOfSale === 'queued') throw new RefundRefusedError('orgReferenceID', 'refundOfVoidedSale', `a void of sale ${org} is under way: there may be nothing to refund`);
  if (sale.state === 'Failed') throw new RefundRefusedError('orgReferenceID', 'refundOfDeclinedSale', `sale ${org} was not approved: there is nothing to refund`);
  if (sale.currency !== undefined && asked.currency !== sale.currency) {
    throw new RefundRefusedError('currency', 'refundCurrency', `sale ${org} was in ${sale.currency}; a refund of it must be too, got ${asked.currency ?? 'nothing'}`);
  }
  const saleUnits = amountUnits(sale.amount);
  const askedUnits = amountUnits(asked.amount);
  if (saleUnits === undefined || askedUnits === undefined) return;
  let taken = 0n;
  for (const refund of basis.refunds) {
    if (refund.referenceID === asked.referenceID || !moneyMayHaveMoved(refund.state) || refund.voided === 'Success') continue;
    if (refund.currency !== undefined && refund.currency !== sale.currency) continue;
    taken += amountUnits(refund.amount) ?? 0n;
  }
  const left = saleUnits - taken;
  if (askedUnits > left) {
    const currency = sale.currency ?? asked.currency ?? '';
    throw new RefundRefusedError(
      'amount',
      'refundBeyondSale',
      `${asked.amount} ${currency} is more than the ${unitsToAmount(left < 0n ? 0n : left)} ${currency} left of sale ${org} (${sale.amount}, less ${unitsToAmount(taken)} in refunds approved or under way)`,
    );
  }
}
