import type { Clock } from '../clock';
import type { JournalEntry, Ledger } from '../ledger';
import type { Action, Reason, ResponseBodies, ResponseHeader, TransactionBody, Verdict } from '../protocol';
import type { Transport } from '../transport';

/**
 * What the session needs of the ledger: point reads and the payment writes.
 * The ledger (lib/ledger's Ledger) is one; the simulation's in-memory store,
 * with faults injected, is another. Reads see every write at once, committed
 * or not; each write's promise resolves once it is durable.
 */
export type PaymentStore = Pick<Ledger, 'get' | 'byReference' | 'refundsOf' | 'openEntries' | 'begin' | 'recordOutcome' | 'markDelivered' | 'recordLookup'>;

export type BusyPolicy = 'queue' | 'reject';

export interface SessionOptions {
  transport: Transport;
  /** The 6-character code shown on the terminal; the key is derived once and the code is not kept. */
  pairingCode: string;
  /** The ECR's own serial number, sent in every request header. Defaults to this host's name. */
  clientDeviceSN?: string;
  /** How long a Sale or Refund may wait for the cardholder (default 120 s). */
  paymentTimeoutMs?: number;
  /** Time-out of every other action (default 10 s). */
  commandTimeoutMs?: number;
  /** Requests that may wait behind the one in flight (default 256). */
  maxQueue?: number;
  /** While a request is in flight: queue the next one (default) or refuse it as busy. */
  busyPolicy?: BusyPolicy;
  /** Interval between TransactionStatus queries while an outcome is unknown (default 2 s). */
  statusPollIntervalMs?: number;
  /** How long to keep asking TransactionStatus before reporting the outcome as still pending (default 120 s). */
  resolveTimeoutMs?: number;
  /** The ledger (or another PaymentStore): payments are recorded before they leave and never sent twice. */
  journal?: PaymentStore;
  /** The clock (default the system's): time-outs, card windows and polls on its monotonic reading, recorded times on its wall reading. */
  clock?: Clock;
  /** This terminal's name in the ledger (default "terminal"): its place (port, host, cloud device) or a caller's name. */
  terminalId?: string;
  /** The terminal's identity recorded on each payment: its config node, address (as shown), and serial number once known. */
  identity?: TerminalIdentityData;
}

/** A terminal's identity as data on its payments. */
export interface TerminalIdentityData {
  configNode?: string;
  address?: string;
  deviceSn?: string;
}

export interface RequestOptions {
  /** Overrides the action's time-out for this request. */
  timeoutMs?: number;
  /** Cancels the request while it waits in the queue. Once sent, a payment is always resolved. */
  signal?: AbortSignal;
  /** The request's ID (default: a new UUID): a caller that queued it in front of the session gives the one it announced. */
  requestID?: string;
  /** Called once the request is validated and queued, before anything is sent. */
  onQueued?: (info: { requestID: string; referenceID?: string }) => void;
  /** Who asked (a node id): kept in the journal, to emit a recovered outcome from. */
  origin?: string;
  /**
   * Refund: the sale may be one the journal does not know (taken elsewhere).
   * Off: such a refund is refused unsent (E_VALIDATION, orgReferenceID). A
   * sale the journal knows always bounds its refunds. Without a journal no
   * sale is known and refunds are not checked against sales.
   */
  refundUnknownSale?: boolean;
}

/** `msg.wonder.result`: the settled result, or for TransactionStatus the looked-up transaction's state. */
export type ResultWord = 'Success' | 'Failed' | 'Pending' | 'Voided' | 'Unknown';

/** What a request ended with. */
export interface Outcome<A extends Action = Action> {
  action: A;
  requestID: string;
  /** The reference of the transaction (Sale, Refund) or of the one acted on (Void). */
  referenceID?: string;
  header: ResponseHeader;
  /** The decrypted response body as the terminal sent it. */
  body: ResponseBodies[A] | TransactionBody;
  /**
   * Success or Failed: the settled result of a payment. For TransactionStatus:
   * the looked-up transaction's state (Unknown when the lookup settled nothing).
   */
  result?: ResultWord;
  /** The outcome module's verdict for a payment (or for the payment a lookup settled), and why. */
  verdict?: Verdict;
  reason?: Reason;
  /** Set when the outcome was learnt by TransactionStatus, not from the payment's own answer. */
  resolvedBy?: 'TransactionStatus';
  /** TransactionStatus requests made to settle this outcome. */
  statusQueries: number;
  elapsedMs: number;
  /** The referenceID was handled before: this is its recorded (or settled) outcome; nothing was sent again. */
  duplicate?: boolean;
  /** An Abort was asked for while this payment was under way (whatever its outcome). */
  abortRequested?: boolean;
  /** Abort only: the payment it named was taken out of the queue (E_ABORTED, never sent); nothing went to the terminal. */
  takenOutOfQueue?: boolean;
  /** An Abort was sent while this payment waited, and the payment was approved anyway. */
  approvedDespiteAbort?: boolean;
  /** The outcome is real but the journal could not record it (disk full, say): E_JOURNAL, with why. */
  journalBehind?: { code: 'E_JOURNAL'; message: string };
  /** TransactionStatus only: the open payment of the journal that this lookup settled (closed now). */
  settledPayment?: { action: 'Sale' | 'Refund' | 'Void'; referenceID: string; result: 'Success' | 'Failed' };
}

/** An open journal entry settled after the fact (at start, or before the next payment). */
export interface Recovery {
  entry: JournalEntry;
  outcome?: Outcome;
  error?: unknown;
}

export type SessionActivity =
  | { kind: 'queued'; action: Action; requestID: string; referenceID?: string; position: number }
  | { kind: 'sending'; action: Action; requestID: string }
  | { kind: 'waiting-card'; action: Action; requestID: string; referenceID?: string }
  | { kind: 'resolving'; action: Action; requestID: string; referenceID: string }
  | { kind: 'done'; action: Action; requestID: string; result?: string }
  | { kind: 'failed'; action: Action; requestID: string; code: string };
