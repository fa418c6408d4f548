import { canonicalAmount, decideLookup, isSettled, JournalError, lookupState, resultOf, ValidationError } from '../protocol';
import { journalKey, journalOutcome, type JournalEntry, type Ledger, type LookupAskedBy } from '../ledger';
import type { Asked, Decision, PaymentAction } from '../protocol';
import type { PaymentContext } from './context';
import type { Outcome, TerminalIdentityData } from './types';

export type Admission =
  /** Not seen before (or may be tried again): send it; `askOnly` when the journal holds it open (ask, never send). */
  | { kind: 'new'; askOnly: boolean }
  /** The same payment is queued or in flight: share its outcome. */
  | { kind: 'join'; promise: Promise<Outcome> }
  /** Settled before: its recorded outcome. */
  | { kind: 'recorded'; entry: JournalEntry };

interface Running {
  promise: Promise<Outcome>;
  amount: string | undefined;
  currency: string | undefined;
}

/**
 * The payments of one terminal: what is queued or in flight (a duplicate
 * joins it), and the journal (a payment recorded before it leaves, its
 * outcome when known; a reference never sent twice).
 */
export class PaymentLedger {
  private readonly running = new Map<string, Running>();

  private readonly identity: TerminalIdentityData;

  constructor(
    public journal: Ledger | undefined,
    private readonly terminalId: string,
    identity: TerminalIdentityData = {},
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

  /** Decides what to do with a payment; throws ValidationError for a reference reused with other terms. */
  admit(asked: Asked): Admission {
    const key = journalKey(asked.action, asked.referenceID);
    const mismatch = (earlier: { amount?: string | undefined; currency?: string | undefined }) => {
      if (canonicalAmount(earlier.amount) === canonicalAmount(asked.amount) && earlier.currency === asked.currency) return;
      throw new ValidationError('referenceID', `was used for ${earlier.amount ?? '?'} ${earlier.currency ?? '?'}; a repeat must carry the same amount and currency, or a new referenceID`);
    };
    const running = this.running.get(key);
    if (running !== undefined) {
      mismatch(running);
      return { kind: 'join', promise: running.promise };
    }
    if (this.journal === undefined) return { kind: 'new', askOnly: false };
    const other = asked.action === 'Void' ? undefined : this.journal.byReference(asked.referenceID);
    if (other !== undefined && other.action !== asked.action && other.state !== 'NotSent') {
      throw new ValidationError('referenceID', `is already used by a ${other.action}; every transaction needs its own`);
    }
    const entry = this.journal.get(asked.action, asked.referenceID);
    if (entry === undefined || entry.state === 'NotSent') return { kind: 'new', askOnly: false };
    mismatch(entry);
    // A refused Void may be tried again (the terminal was busy, say); every other settled entry is final.
    if (entry.state === 'Success' || (entry.state === 'Failed' && asked.action !== 'Void')) return { kind: 'recorded', entry };
    return { kind: 'new', askOnly: entry.state === 'open' };
  }

  /** Remembers a payment queued or in flight until it ends. */
  track(key: string, asked: Asked, promise: Promise<Outcome>): void {
    this.running.set(key, { promise, amount: asked.amount, currency: asked.currency });
    const forget = () => {
      if (this.running.get(key)?.promise === promise) this.running.delete(key);
    };
    promise.then(forget, forget);
  }

  /** What the journal knows of a transaction a Void acts on. */
  voidTarget(referenceID: string): Asked['target'] {
    const entry = this.journal?.byReference(referenceID);
    if (entry === undefined || entry.action === 'Void') return undefined;
    const target: NonNullable<Asked['target']> = { action: entry.action };
    if (entry.amount !== undefined) target.amount = entry.amount;
    if (entry.currency !== undefined) target.currency = entry.currency;
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
        ...(asked.amount !== undefined ? { amount: asked.amount } : {}),
        ...(asked.currency !== undefined ? { currency: asked.currency } : {}),
        ...(asked.orgReferenceID !== undefined ? { orgReferenceID: asked.orgReferenceID } : {}),
        ...(ctx.options.origin !== undefined ? { node: ctx.options.origin } : {}),
        ...(ctx.customerOrderID !== undefined ? { customerOrderID: ctx.customerOrderID } : {}),
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
