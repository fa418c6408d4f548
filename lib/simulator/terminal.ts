import { randomUUID } from 'node:crypto';
import { type Clock, sleep, systemClock, type Timer } from '../clock';
import { type Action, type CreditCard, formatTimestamp, isAction, parseEnvelope, WonderCipher } from '../protocol';

/**
 * A simulated Wonder terminal: the other side of the protocol, with books.
 * Outcomes are chosen by the amount, like test cards (see SIMULATOR_AMOUNTS).
 */
export const SIMULATOR_AMOUNTS = {
  /** Declined by the issuer. */
  decline: '900.01',
  /** Answers Pending; TransactionStatus says Pending for `pendingMs`, then Success. */
  pendingThenApprove: '900.02',
  /** Approves but never answers the request (the approval is lost). */
  noAnswer: '900.03',
  /** Answers Failed: the terminal is busy. Nothing is recorded. */
  busy: '900.04',
  /** The cardholder takes `slowCardMs` to present the card, then it approves. */
  slowCardholder: '900.05',
  /** Declines and never answers (the request reached the terminal, the answer is lost). */
  noAnswerDecline: '900.06',
} as const;

export const SIMULATOR_DEFAULT_PAIRING_CODE = '260880';

export interface SimulatorOptions {
  pairingCode?: string;
  serverDeviceSN?: string;
  softwareVersion?: string;
  businessID?: string;
  /** Time the simulated cardholder takes to tap (default 200 ms). */
  cardDelayMs?: number;
  /** Time for the slow-cardholder amount (default 8 s). */
  slowCardMs?: number;
  /** How long the pending amount stays Pending (default 3 s). */
  pendingMs?: number;
  /**
   * Cloud pairing: a second pin code handed back by Pair. Requests are then
   * accepted under either code and answered under the code they came with.
   */
  pinCode2?: string;
  /** Extra time before answering, by action (a slow or stalled terminal; tests). */
  delays?: Partial<Record<Action, number>>;
  /** Actions the terminal stops answering (a terminal gone silent; tests). */
  silent?: Action[];
  /** The card its approvals carry (default: a test Visa card, prefix 476173, last digits 0119). */
  card?: Partial<CreditCard>;
  /** The clock its card waits, delays and pending times run on, and its timestamps are read from (default the system's). */
  clock?: Clock;
  /** Random source for its RRN and BRN digits (seed it for a repeatable run; default Math.random). */
  random?: () => number;
}

/** The card a simulated approval carries unless told otherwise. */
export const SIMULATOR_CARD: CreditCard = { panPrefix6Digits: '476173', panLast4Digits: '0119', panHash: 'simulated', panToken: '' };

export type SimTxState = 'Pending' | 'Success' | 'Failed' | 'Voided';

export interface SimTransaction {
  referenceID: string;
  kind: 'Sale' | 'Refund';
  amount: string;
  currency: string;
  customerOrderID?: string;
  orgReferenceID?: string;
  state: SimTxState;
  errorCode: string;
  errorMessage: string;
  rrn: string;
  brn: string;
  transactionTime: string;
  /** Cents refunded against a sale. */
  refundedCents: number;
}

interface CardWait {
  referenceID: string;
  abort(): void;
}

type Body = Record<string, unknown>;

function cents(amount: string): number {
  const [whole, frac = ''] = amount.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

function digits(n: number, random: () => number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(random() * 10);
  return out.replace(/^0/, '1');
}

const REF = /^[\x21-\x7e]{1,64}$/;
const AMOUNT = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$/;

export class SimulatedTerminal {
  readonly serverDeviceSN: string;
  readonly transactions = new Map<string, SimTransaction>();
  /** Every request received, in order: for tests and the soak's books. */
  readonly received: Array<{ action: string; requestID?: string; referenceID?: string; key?: 'pinCode2' }> = [];
  private readonly cipher: WonderCipher;
  private readonly cipher2: WonderCipher | undefined;
  private readonly pinCode2: string | undefined;
  private readonly opts: Required<Omit<SimulatorOptions, 'pairingCode' | 'serverDeviceSN' | 'pinCode2' | 'delays' | 'silent' | 'card' | 'clock' | 'random'>>;
  /** The card its approvals carry; change at run time (tests look for its values where they must not be). */
  card: CreditCard;
  /** Per-action answer delays; change at run time to play a stalled terminal. */
  delays: Partial<Record<Action, number>>;
  /** Actions not answered at all; change at run time to play a silent terminal. */
  silent: Set<Action>;
  private cardWait: CardWait | undefined;
  private readonly pendingAcks = new Set<string>();
  private readonly timers = new Set<Timer>();
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: SimulatorOptions = {}) {
    this.cipher = new WonderCipher(options.pairingCode ?? SIMULATOR_DEFAULT_PAIRING_CODE);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.pinCode2 = options.pinCode2;
    this.delays = { ...options.delays };
    this.silent = new Set(options.silent);
    this.card = { ...SIMULATOR_CARD, ...options.card };
    this.cipher2 = options.pinCode2 === undefined ? undefined : new WonderCipher(options.pinCode2);
    this.serverDeviceSN = options.serverDeviceSN ?? 'SIM-WONDER-0001';
    this.opts = {
      softwareVersion: options.softwareVersion ?? '1.0.0(sim)',
      businessID: options.businessID ?? 'ff467f02-5b69-45f3-81aa-bffcca55fe8f',
      cardDelayMs: options.cardDelayMs ?? 200,
      slowCardMs: options.slowCardMs ?? 8_000,
      pendingMs: options.pendingMs ?? 3_000,
    };
  }

  get busy(): boolean {
    return this.cardWait !== undefined;
  }

  /** Requests of `action` received for `referenceID` (to prove a payment went out once). */
  count(action: Action, referenceID?: string): number {
    return this.received.filter((r) => r.action === action && (referenceID === undefined || r.referenceID === referenceID)).length;
  }

  /** Handles one envelope; resolves with the response envelope text, or null for no answer. */
  async handle(input: string | Uint8Array): Promise<string | null> {
    let action: string;
    let plain: { header?: Body; body?: Body };
    let cipher = this.cipher;
    try {
      const env = parseEnvelope(input);
      action = env.action;
      try {
        plain = this.cipher.decryptRequest(env.data) as typeof plain;
      } catch (err) {
        if (this.cipher2 === undefined) throw err;
        plain = this.cipher2.decryptRequest(env.data) as typeof plain;
        cipher = this.cipher2;
      }
    } catch {
      // Not for us, or not under our key: answer under our key so the ECR
      // learns that its key is wrong instead of waiting.
      this.received.push({ action: 'unreadable' });
      return this.respond('Unknown', '', { status: 'Failed', errorCode: 'DECRYPT', errorMessage: 'Request could not be decrypted' });
    }
    const header = plain.header ?? {};
    const body = plain.body ?? {};
    const requestID = typeof header.requestID === 'string' ? header.requestID : '';
    const reference = typeof body.referenceID === 'string' ? body.referenceID : typeof body.orgReferenceID === 'string' ? body.orgReferenceID : typeof body.targetReferenceID === 'string' ? body.targetReferenceID : undefined;
    this.received.push({ action, requestID, ...(reference === undefined ? {} : { referenceID: reference }), ...(cipher === this.cipher2 ? { key: 'pinCode2' } : {}) });
    if (!isAction(action)) {
      return this.respond(action, requestID, { status: 'Failed', errorCode: 'ACTION', errorMessage: `Unknown action ${action.slice(0, 32)}` }, cipher);
    }
    const answer = await this.answer(action, body);
    const delay = this.delays[action];
    if (delay !== undefined && delay > 0) await sleep(this.clock, delay);
    if (answer === null || this.silent.has(action)) return null;
    return this.respond(action, requestID, answer, cipher);
  }

  /** Clears pending timers (the pending-then-approve ones) so a process can exit. */
  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.cardWait?.abort();
  }

  private respond(action: string, responseID: string, body: Body, cipher = this.cipher): string {
    const plaintext = JSON.stringify({
      // `simulated`: every answer says it comes from a simulator (no real terminal writes it), so an
      // approval from `wonder-ecr simulate` behind a serial or LAN line is never taken for a real one.
      header: { responseID, serverDeviceSN: this.serverDeviceSN, timestamp: formatTimestamp(new Date(this.clock.wall())), simulated: true },
      body,
    });
    // Like the seeds' responses: version as the JSON number 2.0.
    return `{"version":2.0,"action":${JSON.stringify(action)},"data":${JSON.stringify(cipher.encrypt(plaintext))}}`;
  }

  private deviceInfo(): Body {
    return {
      deviceStatus: this.busy ? 'Busy' : 'Free',
      networkStatus: 'Connected',
      softwareVersion: this.opts.softwareVersion,
      businessID: this.opts.businessID,
    };
  }

  private async answer(action: Action, body: Body): Promise<Body | null> {
    switch (action) {
      case 'Pair': {
        const ackUuid = randomUUID();
        this.pendingAcks.add(ackUuid);
        return { pairUuid: body.pairUuid ?? '', ackUuid, ...(this.pinCode2 === undefined ? {} : { pinCode2: this.pinCode2 }) };
      }
      case 'Ack':
        if (typeof body.ackUuid !== 'string' || !this.pendingAcks.delete(body.ackUuid)) {
          return { ...this.deviceInfo(), status: 'Failed', errorCode: 'ACK', errorMessage: 'Unknown ackUuid' };
        }
        return this.deviceInfo();
      case 'DeviceInfo':
        return this.deviceInfo();
      case 'ConnectionInfo':
        return { deviceSn: this.serverDeviceSN, ip: '127.0.0.1', port: '8443' };
      case 'Abort':
        if (this.cardWait === undefined) return failed('NO_TXN', 'No transaction in progress');
        this.cardWait.abort();
        return ok();
      case 'Sale':
      case 'Refund':
        return this.payment(action, body);
      case 'Void':
        return this.void(body);
      case 'TransactionStatus':
        return this.status(body);
    }
  }

  private async payment(action: 'Sale' | 'Refund', body: Body): Promise<Body | null> {
    const { referenceID, currency, amount, customerOrderID, orgReferenceID } = body;
    if (typeof referenceID !== 'string' || !REF.test(referenceID)) return failed('PARAM', 'referenceID is invalid');
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) return failed('PARAM', 'currency is invalid');
    if (typeof amount !== 'string' || !AMOUNT.test(amount) || cents(amount) === 0) return failed('PARAM', 'amount is invalid');
    if (this.transactions.has(referenceID)) return failed('DUPLICATE', 'referenceID has been used');
    if (this.cardWait !== undefined) return failed('50001', 'The equipment is being traded');
    if (amount === SIMULATOR_AMOUNTS.busy) return failed('50001', 'The equipment is being traded');
    let original: SimTransaction | undefined;
    if (action === 'Refund') {
      original = typeof orgReferenceID === 'string' ? this.transactions.get(orgReferenceID) : undefined;
      if (original === undefined || original.kind !== 'Sale') return failed('NOT_FOUND', 'Original transaction not found');
      if (original.state !== 'Success') return failed('STATE', `Original transaction is ${original.state}`);
      if (original.currency !== currency) return failed('CURRENCY', 'Currency differs from the original transaction');
      if (original.refundedCents + cents(amount) > cents(original.amount)) return failed('AMOUNT', 'Refund exceeds the refundable amount');
    }
    const tx: SimTransaction = {
      referenceID,
      kind: action,
      amount,
      currency,
      state: 'Pending',
      errorCode: '',
      errorMessage: '',
      rrn: digits(19, this.random),
      brn: digits(19, this.random),
      transactionTime: formatTimestamp(new Date(this.clock.wall())),
      refundedCents: 0,
    };
    if (typeof customerOrderID === 'string') tx.customerOrderID = customerOrderID;
    if (original !== undefined) tx.orgReferenceID = original.referenceID;
    this.transactions.set(referenceID, tx);

    const tapped = await this.waitForCard(referenceID, amount === SIMULATOR_AMOUNTS.slowCardholder ? this.opts.slowCardMs : this.opts.cardDelayMs);
    if (!tapped) {
      this.conclude(tx, 'Failed', 'ABORTED', 'Transaction aborted by the ECR');
      return this.transactionBody(tx);
    }
    switch (amount) {
      case SIMULATOR_AMOUNTS.decline:
        this.conclude(tx, 'Failed', '05', 'Declined by issuer');
        return this.transactionBody(tx);
      case SIMULATOR_AMOUNTS.noAnswerDecline:
        this.conclude(tx, 'Failed', '05', 'Declined by issuer');
        return null;
      case SIMULATOR_AMOUNTS.pendingThenApprove: {
        const timer = this.clock.setTimer(() => {
          this.timers.delete(timer);
          if (tx.state === 'Pending') this.conclude(tx, 'Success');
          if (original !== undefined && tx.state === 'Success') original.refundedCents += cents(amount);
        }, this.opts.pendingMs);
        this.timers.add(timer);
        return this.transactionBody(tx);
      }
      default:
        this.conclude(tx, 'Success');
        if (original !== undefined) original.refundedCents += cents(amount);
        return amount === SIMULATOR_AMOUNTS.noAnswer ? null : this.transactionBody(tx);
    }
  }

  private waitForCard(referenceID: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(() => {
        this.cardWait = undefined;
        resolve(true);
      }, ms);
      this.cardWait = {
        referenceID,
        abort: () => {
          timer.cancel();
          this.cardWait = undefined;
          resolve(false);
        },
      };
    });
  }

  private conclude(tx: SimTransaction, state: SimTxState, errorCode = '', errorMessage = ''): void {
    tx.state = state;
    tx.errorCode = errorCode;
    tx.errorMessage = errorMessage;
  }

  private transactionBody(tx: SimTransaction): Body {
    const status = tx.state === 'Voided' ? 'Success' : tx.state;
    const out: Body = { status, errorCode: tx.errorCode, errorMessage: tx.errorMessage };
    if (tx.state === 'Pending') return out;
    if (tx.customerOrderID !== undefined) out.customerOrderID = tx.customerOrderID;
    Object.assign(out, {
      currency: tx.currency,
      amount: tx.amount,
      paymentMethod: 'visa',
      paymentEntryType: 'contactless',
      rrn: tx.rrn,
      brn: tx.brn,
      transactionStatus: tx.state,
      transactionTime: tx.transactionTime,
    });
    if (tx.state !== 'Failed') {
      out.creditCard = { ...this.card };
    }
    return out;
  }

  private void(body: Body): Body {
    const tx = typeof body.orgReferenceID === 'string' ? this.transactions.get(body.orgReferenceID) : undefined;
    if (tx === undefined) return failed('NOT_FOUND', 'Original transaction not found');
    if (this.cardWait !== undefined) return failed('50001', 'The equipment is being traded');
    if (tx.state !== 'Success') return failed('STATE', `Transaction is ${tx.state}`);
    if (tx.refundedCents > 0) return failed('STATE', 'Transaction has refunds');
    tx.state = 'Voided';
    if (tx.orgReferenceID !== undefined) {
      const original = this.transactions.get(tx.orgReferenceID);
      if (original !== undefined) original.refundedCents -= cents(tx.amount);
    }
    return ok();
  }

  private status(body: Body): Body {
    const tx = typeof body.targetReferenceID === 'string' ? this.transactions.get(body.targetReferenceID) : undefined;
    if (tx === undefined) return failed('NOT_FOUND', 'Transaction not found');
    if (tx.state === 'Pending') return { status: 'Pending', errorCode: '', errorMessage: '', transactionStatus: 'Pending' };
    // What kind of transaction the reference belongs to, and for a refund the sale it refunds: a lookup describes its transaction.
    const kind: Body = tx.orgReferenceID === undefined ? { transactionType: tx.kind } : { transactionType: tx.kind, orgReferenceID: tx.orgReferenceID };
    return { ...this.transactionBody(tx), ...kind, status: 'Success', errorCode: '', errorMessage: '' };
  }
}

function ok(): Body {
  return { status: 'Success', errorCode: '', errorMessage: '' };
}

function failed(errorCode: string, errorMessage: string): Body {
  return { status: 'Failed', errorCode, errorMessage };
}
