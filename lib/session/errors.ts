import { WonderError } from '../protocol';
import type { Action, Reason } from '../protocol';

/** A payment whose outcome was still unknown when the session stopped asking. It may have been approved. */
export class PendingError extends WonderError {
  declare readonly referenceID: string;
  /** The last body the terminal sent about it (its answer or a lookup), if any. */
  readonly lastBody?: unknown;
  /** Whether the terminal answered anything about this payment at all (its answer or a lookup). */
  readonly heardFrom: boolean;
  /** Why the outcome stayed unknown (the outcome module's reason for the last evidence). */
  readonly reason?: Reason;

  constructor(action: Action, referenceID: string, details: { lastBody?: unknown; cause?: unknown; heardFrom: boolean; reason?: Reason }) {
    super('E_PENDING', `${action} ${referenceID}: outcome still unknown${details.reason === undefined ? '' : ` (${details.reason})`}; it may have been approved: check it later with TransactionStatus, never send it again`, {
      cause: details.cause,
      referenceID,
      notSent: false,
    });
    this.name = 'PendingError';
    this.heardFrom = details.heardFrom;
    if (details.lastBody !== undefined) this.lastBody = details.lastBody;
    if (details.reason !== undefined) this.reason = details.reason;
  }
}

/** The terminal refused the payment because its reference belongs to another transaction, which a lookup showed. */
export class ReferenceTakenError extends WonderError {
  declare readonly referenceID: string;
  constructor(action: Action, referenceID: string, field: string | undefined) {
    super(
      'E_REFERENCE_TAKEN',
      `${action} ${referenceID}: the terminal refused it as a duplicate, and its record of this reference is another transaction${field === undefined ? '' : ` (${field} differs)`}; nothing was carried out under it: use a new referenceID`,
      { referenceID, notSent: false, ...(field === undefined ? {} : { field: 'referenceID' }) },
    );
    this.name = 'ReferenceTakenError';
  }
}

/**
 * A payment refused before it left: its referenceID is already used by
 * another payment this terminal's ledger knows (open or settled, any kind, in
 * flight or not). Nothing was sent; one reference is one payment.
 */
export class ReferenceInUseError extends WonderError {
  declare readonly referenceID: string;
  constructor(action: Action, referenceID: string, usedBy: string) {
    super('E_REFERENCE_TAKEN', `${action} ${referenceID} was not sent: the referenceID is already used by ${usedBy}; every transaction needs its own referenceID`, {
      referenceID,
      notSent: true,
      field: 'referenceID',
    });
    this.name = 'ReferenceInUseError';
  }
}
