import { canonicalAmount, decideLookup, isSettled, JournalError, lookupState, resultOf, ValidationError } from '../protocol';
import { type Clock, systemClock } from '../clock';
import { journalKey, journalOutcome, type JournalEntry, type LookupAskedBy } from '../ledger';
import { ReferenceInUseError } from './errors';
import { checkRefund, type KnownPayment, type RefundBasis } from './refund-bound';
import type { Asked, Decision, PaymentAction } from '../protocol';
import type { PaymentContext } from './context';
import type { Outcome, PaymentStore, TerminalIdentityData } from './types';

export type Admission =
  /** Not seen before (or may be tried again): send it; `askOnly` when the journal holds it open (ask, never send). */
  | { kind: 'new'; askOnly: boolean }
  /** The same payment is queued or in flight: share its outcome. */
  | { kind: 'join'; promise: Promise<Outcome> }
  /** Settled before: its recorded outcome. */
  | { kind: 'recorded'; entry: JournalEntry };

interface Running {
  promise: Promise<Outcome>;
  asked: Asked;
}

/** What a payment is called in a refusal: "a Sale (R1)". */
function named(action: string, referenceID: string): string {
  return `a ${action} (${referenceID})`;
}

/** What a redelivery must agree on with the payment it repeats (else it is another payment under the same reference). */
function sameTerms(earlier: { amount?: string | undefined; currency?: string | undefined; orgReferenceID?: string | undefined; customerOrderID?: string | undefined }, asked: Asked): string | undefined {
  if (canonicalAmount(earlier.amount) !== canonicalAmount(asked.amount) || earlier.currency !== asked.currency) return `${earlier.amount ?? '?'} ${earlier.currency ?? '?'}`;
  if (asked.action === 'Refund' && earlier.orgReferenceID !== asked.orgReferenceID) return `a refund of ${earlier.orgReferenceID ?? '?'}`;
  // Compared where both name one (an entry from before customerOrderID was kept names none).
  if (earlier.customerOrderID !== undefined && asked.customerOrderID !== undefined && earlier.customerOrderID !== asked.customerOrderID) return `customerOrderID ${earlier.customerOrderID}`;
  return undefined;
}

/** How a payment may be admitted. */
export interface AdmitOptions {
  /** A Refund of a sale the journal does not know (taken elsewhere) may go out (the refund node's option). */
  refundUnknownSale?: boolean;
}

/**
 * The payments of one terminal: what is queued or in flight (a duplicate
 * joins it), and the journal (a payment recorded before it leaves, its
 * outcome when known; a reference never sent twice, and used by one payment
 * only; a refund held against its sale).
 */
export class PaymentLedger {
  private readonly running = new Map<string, Running>();

  private readonly identity: TerminalIdentityData;

  constructor(
    public journal: PaymentStore | undefined,
    private readonly terminalId: string,
    identity: TerminalIdentityData = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.identity = { ...identity };
  }

  /**
   * The terminal's serial number became known (or changed: another terminal
   * at the same place). Payments recorded from here on carry it, and the open
   * payments of that SN made elsewhere are this terminal's too.
   */
  setDeviceSn(sn: string | undefined): void {
    if (sn === undefined) delete this.identity.deviceSn;
    else this.identity.deviceSn = sn;
  }

  get deviceSn(): string | undefined {
    return this.identity.deviceSn;
  }

  /** Whether an open payment is this terminal's: made under its name, or by its SN. */
  private mine(e: JournalEntry): boolean {
    return e.terminal === this.terminalId || (this.identity.deviceSn !== undefined && e.deviceSn === this.identity.deviceSn);
  }

  /**
   * Decides what to do with a payment. Refuses it unsent (throws) when its
   * reference is another payment's (ReferenceInUseError, E_REFERENCE_TAKEN),
   * when it repeats a reference with other terms (ValidationError naming
   * referenceID), and a Refund its sale does not allow (RefundRefusedError,
   * E_VALIDATION naming orgReferenceID, currency or amount: see checkRefund).
   * A Void is kept under its own key (`Void/<the voided reference>`): it joins
   * only a Void of the same transaction.
   */
  admit(asked: Asked, options: AdmitOptions = {}): Admission {
    const key = journalKey(asked.action, asked.referenceID);
    const mismatch = (earlier: Parameters<typeof sameTerms>[0]) => {
      const terms = sameTerms(earlier, asked);
      if (terms === undefined) return;
      throw new ValidationError('referenceID', `was used for ${terms}; a repeat must carry the same terms, or a new referenceID`);
    };
    const running = this.running.get(key);
    if (running !== undefined) {
      // Another kind under the same key (a Refund R1 beside a Sale R1): another payment, never joined.
      if (running.asked.action !== asked.action) throw new ReferenceInUseError(asked.action, asked.referenceID, `${named(running.asked.action, running.asked.referenceID)} queued or in flight`);
      mismatch(running.asked);
      return { kind: 'join', promise: running.promise };
    }
    const entry = this.journal?.get(asked.action, asked.referenceID);
    if (entry !== undefined && entry.state !== 'NotSent') {
      if (entry.action !== asked.action) throw new ReferenceInUseError(asked.action, asked.referenceID, `${named(entry.action, entry.referenceID)}${entry.state === 'open' ? ' still open' : ''}`);
      mismatch(entry);
      // A refused Void may be tried again (the terminal was busy, say); every other settled entry is final.
      if (entry.state === 'Success' || (entry.state === 'Failed' && asked.action !== 'Void')) return { kind: 'recorded', entry };
      if (entry.state === 'open') return { kind: 'new', askOnly: true };
    }
    if (asked.action !== 'Void') {
      const other = this.otherUse(asked.referenceID);
      if (other !== undefined) throw new ReferenceInUseError(asked.action, asked.referenceID, other);
    }
    if (asked.action === 'Refund' && this.journal !== undefined) checkRefund(asked, this.refundBasis(asked.orgReferenceID!), options.refundUnknownSale === true);
    return { kind: 'new', askOnly: false };
  }

  /**
   * Whether a reference new to this kind is used by another payment the
   * ledger knows: a transaction a Void acts on, or a sale a refund names
   * (queued, in flight or in the journal, unless never sent).
   */
  private otherUse(referenceID: string): string | undefined {
    const voidOf = this.running.get(journalKey('Void', referenceID));
    if (voidOf?.asked.action === 'Void') return `the transaction a Void queued or in flight acts on`;
    for (const r of this.running.values()) if (r.asked.action === 'Refund' && r.asked.orgReferenceID === referenceID) return `the sale ${named('Refund', r.asked.referenceID)} queued or in flight refunds`;
    if (this.journal === undefined) return undefined;
    const voided = this.journal.get('Void', referenceID);
    if (voided?.action === 'Void' && voided.state !== 'NotSent') return 'the transaction a Void in the journal acts on';
    const refund = this.journal.refundsOf(referenceID).find((e) => e.state !== 'NotSent');
    if (refund !== undefined) return `the sale ${named('Refund', refund.referenceID)} refunds`;
    return undefined;
  }

  /** The state of a Void of `referenceID`, queued or in flight (`queued`) or in the journal. */
  private voidState(referenceID: string): KnownPayment['state'] | undefined {
    if (this.running.get(journalKey('Void', referenceID))?.asked.action === 'Void') return 'queued';
    const entry = this.journal?.get('Void', referenceID);
    return entry?.action === 'Void' ? entry.state : undefined;
  }

  /** What the ledger knows of a sale and its refunds (see checkRefund). */
  private refundBasis(orgReferenceID: string): RefundBasis {
    const known = (entry: JournalEntry): KnownPayment => {
      const k: KnownPayment = { referenceID: entry.referenceID, action: entry.action, state: entry.state };
      if (entry.amount !== undefined) k.amount = entry.amount;
      if (entry.currency !== undefined) k.currency = entry.currency;
      if (entry.outcome?.verdict !== undefined) k.verdict = entry.outcome.verdict;
      return k;
    };
    const queued = (a: Asked): KnownPayment => ({ referenceID: a.referenceID, action: a.action, state: 'queued', ...(a.amount !== undefined ? { amount: a.amount } : {}), ...(a.currency !== undefined ? { currency: a.currency } : {}) });
    const runningSale = this.running.get(orgReferenceID);
    const entry = this.journal?.byReference(orgReferenceID);
    const sale = runningSale !== undefined ? queued(runningSale.asked) : entry !== undefined ? known(entry) : undefined;
    const refunds: RefundBasis['refunds'] = [];
    const seen = new Set<string>();
    for (const e of this.journal?.refundsOf(orgReferenceID) ?? []) {
      seen.add(e.referenceID);
      const r = this.running.get(e.referenceID);
      refunds.push({ ...(r !== undefined ? queued(r.asked) : known(e)), voided: this.voidState(e.referenceID) });
    }
    for (const r of this.running.values()) {
      if (r.asked.action === 'Refund' && r.asked.orgReferenceID === orgReferenceID && !seen.has(r.asked.referenceID)) refunds.push({ ...queued(r.asked), voided: this.voidState(r.asked.referenceID) });
    }
    return { sale, voidOfSale: this.voidState(orgReferenceID), refunds };
  }

  /** Remembers a payment queued or in flight until it ends. */
  track(key: string, asked: Asked, promise: Promise<Outcome>): void {
    this.running.set(key, { promise, asked });
    const forget = () => {
      if (this.running.get(key)?.promise === promise) this.running.delete(key);
    };
    promise.then(forget, forget);
  }

  /** Whether a payment is queued or in flight here (its caller waits for its own outcome). */
  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** What the journal knows of a transaction a Void acts on. */
  voidTarget(referenceID: string): Asked['target'] {
    const entry = this.journal?.byReference(referenceID);
    if (entry === undefined || entry.action === 'Void') return undefined;
    const target: NonNullable<Asked['target']> = { action: entry.action };
    if (entry.amount !== undefined) target.amount = entry.amount;
    if (entry.currency !== undefined) target.currency = entry.currency;
    if (entry.customerOrderID !== undefined) target.customerOrderID = entry.customerOrderID;
    if (entry.orgReferenceID !== undefined) target.orgReferenceID = entry.orgReferenceID;
    return target;
  }

  /**
   * Records a payment before it leaves; `meanwhile` runs while the line goes
   * to disk, and its result is given once the line is there. A journal that
   * cannot write stops the payment, unsent.
   */
  async begin<T>(ctx: PaymentContext, meanwhile: () => T): Promise<T> {
    const written = this.record(ctx);
    try {
      return meanwhile();
    } finally {
      await written;
    }
  }

  private async record(ctx: PaymentContext): Promise<void> {
    if (this.journal === undefined) return;
    const { asked } = ctx;
    try {
      await this.journal.begin({
        referenceID: asked.referenceID,
        action: ctx.action,
        terminal: this.terminalId,
        requestID: ctx.requestID,
        openedAt: new Date(this.clock.wall()).toISOString(),
        ...(asked.amount !== undefined ? { amount: asked.amount } : {}),
        ...(asked.currency !== undefined ? { currency: asked.currency } : {}),
        ...(asked.customerOrderID !== undefined ? { customerOrderID: asked.customerOrderID } : {}),
        ...(asked.orgReferenceID !== undefined ? { orgReferenceID: asked.orgReferenceID } : {}),
        ...(ctx.options.origin !== undefined ? { node: ctx.options.origin } : {}),
        ...(this.identity.configNode !== undefined ? { configNode: this.identity.configNode } : {}),
        ...(this.identity.address !== undefined ? { address: this.identity.address } : {}),
        ...(this.identity.deviceSn !== undefined ? { deviceSn: this.identity.deviceSn } : {}),
      });
    } catch (cause) {
      // The in-memory entry would say open: mark it never sent, so the reference stays usable.
      this.journal.recordOutcome(ctx.action, asked.referenceID, 'NotSent').catch(() => undefined);
      throw new JournalError(`${ctx.action} ${asked.referenceID} was not sent: the journal cannot record it (${(cause as Error).message})`, {
        cause,
        notSent: true,
        referenceID: asked.referenceID,
      });
    }
  }

  /**
   * Closes a payment's entry with its outcome. A failed write does not lose
   * the outcome: it is returned as `journalBehind` and the entry is closed in
   * memory (so no duplicate of it is sent by this process).
   */
  async close(action: PaymentAction, referenceID: string, result: 'Success' | 'Failed', body: unknown, resolvedBy: string | undefined, decision: Decision): Promise<Outcome['journalBehind']> {
    if (this.journal === undefined) return undefined;
    try {
      await this.journal.recordOutcome(action, referenceID, result, journalOutcome(body, resolvedBy, decision));
      return undefined;
    } catch (err) {
      return { code: 'E_JOURNAL', message: `the outcome of ${action} ${referenceID} (${result}) could not be written to the journal: ${(err as Error).message}` };
    }
  }

  /** The payment's outcome reached the caller (the flow): noted once, so a settlement is emitted once across restarts. */
  delivered(action: PaymentAction, referenceID: string): void {
    this.journal?.markDelivered(action, referenceID).catch(() => undefined);
  }

  /** Notes a TransactionStatus asked about a payment, and what it told (a row of `lookups`). */
  lookedUp(action: PaymentAction, referenceID: string, askedBy: LookupAskedBy, body: unknown, decision?: Decision): void {
    if (this.journal === undefined) return;
    const b = body as { transactionStatus?: unknown } | undefined;
    this.journal
      .recordLookup({
        action,
        referenceID,
        askedBy,
        terminal: this.terminalId,
        ...(this.identity.deviceSn !== undefined ? { deviceSn: this.identity.deviceSn } : {}),
        ...(typeof b?.transactionStatus === 'string' ? { transactionStatus: b.transactionStatus } : {}),
        ...(decision !== undefined ? { verdict: decision.verdict, reason: decision.reason } : {}),
        result: decision === undefined ? 'unknown' : isSettled(decision) ? resultOf(action, decision.verdict) : 'unknown',
      })
      .catch(() => undefined);
  }

  /** The payment certainly never left: the reference may be used again. */
  async notSent(action: PaymentAction, referenceID: string): Promise<void> {
    await this.journal?.recordOutcome(action, referenceID, 'NotSent').catch(() => undefined);
  }

  /** This terminal's open payments. */
  openEntries(): JournalEntry[] {
    return this.journal?.openEntries({ terminal: this.terminalId, ...(this.identity.deviceSn !== undefined ? { deviceSn: this.identity.deviceSn } : {}) }) ?? [];
  }

  /** Open payments whose outcome a lookup of `referenceID` tells: the transaction itself, and a Void of it. */
  openFor(referenceID: string): JournalEntry[] {
    if (this.journal === undefined) return [];
    const out: JournalEntry[] = [];
    for (const e of [this.journal.byReference(referenceID), this.journal.get('Void', referenceID)]) {
      if (e !== undefined && e.state === 'open' && this.mine(e)) out.push(e);
    }
    return out;
  }

  /** The journal's entry for a reference (its own transaction), open or settled. */
  entryOf(referenceID: string): JournalEntry | undefined {
    return this.journal?.byReference(referenceID);
  }

  /** What was asked, as the journal recorded it. */
  askedOfEntry(entry: JournalEntry): Asked {
    const asked: Asked = { action: entry.action, referenceID: entry.referenceID };
    if (entry.amount !== undefined) asked.amount = entry.amount;
    if (entry.currency !== undefined) asked.currency = entry.currency;
    if (entry.customerOrderID !== undefined) asked.customerOrderID = entry.customerOrderID;
    if (entry.orgReferenceID !== undefined) asked.orgReferenceID = entry.orgReferenceID;
    if (entry.action === 'Void') {
      const target = this.voidTarget(entry.referenceID);
      if (target !== undefined) asked.target = target;
    }
    return asked;
  }

  /**
   * A TransactionStatus asked by a caller (the status node). Its result is
   * the looked-up transaction's state. Where the journal holds that payment
   * open, a lookup that describes it settles it now: the entry is closed and
   * the payment is not emitted again by recovery.
   */
  async readLookup(outcome: Outcome, referenceID: string): Promise<Outcome> {
    const answer = { action: 'TransactionStatus', body: outcome.body };
    const own = this.entryOf(referenceID);
    const state = lookupState(outcome.body);
    if (own === undefined) {
      outcome.result = state ?? 'Unknown';
    } else {
      const decision = decideLookup(this.askedOfEntry(own), answer);
      outcome.verdict = decision.verdict;
      outcome.reason = decision.reason;
      outcome.result = isSettled(decision) ? state! : state === 'Pending' ? 'Pending' : 'Unknown';
    }
    for (const entry of this.openFor(referenceID)) {
      const decision = decideLookup(this.askedOfEntry(entry), answer);
      this.lookedUp(entry.action, entry.referenceID, 'status-node', outcome.body, decision);
      if (!isSettled(decision)) continue;
      const result = resultOf(entry.action, decision.verdict);
      const behind = await this.close(entry.action, entry.referenceID, result, outcome.body, 'TransactionStatus', decision);
      if (behind !== undefined) outcome.journalBehind = behind;
      outcome.settledPayment = { action: entry.action, referenceID: entry.referenceID, result };
    }
    return outcome;
  }
}
