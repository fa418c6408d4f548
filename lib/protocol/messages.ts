import { randomUUID } from 'node:crypto';
import type { WonderCipher } from './cipher';
import { serializeEnvelope, type Envelope } from './envelope';
import { ProtocolError, SecurityError, ValidationError } from './errors';
import { checkMessageId } from './strict-json';
import {
  isRecord,
  validateAmount,
  validateCurrency,
  validateOptionalReference,
  validateOptionalText,
  validateReference,
  validateText,
  validateUuid,
} from './validate';

export const ACTIONS = [
  'Pair',
  'Ack',
  'DeviceInfo',
  'Sale',
  'Abort',
  'Void',
  'Refund',
  'TransactionStatus',
  'ConnectionInfo',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that move money: their outcome must be known, never guessed. */
export const PAYMENT_ACTIONS: readonly Action[] = ['Sale', 'Refund', 'Void'];

export type ResultStatus = 'Success' | 'Failed' | 'Pending';

// ---- request parameters (what a caller gives) ----

export interface SaleParams {
  amount: string | number;
  currency: string;
  customerOrderID?: string;
  referenceID?: string;
}
export interface RefundParams {
  amount: string | number;
  currency: string;
  orgReferenceID: string;
  referenceID?: string;
}
export interface VoidParams {
  orgReferenceID: string;
}
export interface TransactionStatusParams {
  targetReferenceID: string;
}
export interface PairParams {
  pairUuid?: string;
}
export interface AckParams {
  ackUuid: string;
}
export interface ConnectionInfoParams {
  businessID: string;
}
export type NoParams = Record<string, never>;
/** Abort: the payment (Sale or Refund) it cancels; without one, the payment running now. Never sent on the wire (Abort has no body). */
export interface AbortParams {
  referenceID?: string;
}

export interface RequestParams {
  Pair: PairParams;
  Ack: AckParams;
  DeviceInfo: NoParams;
  Sale: SaleParams;
  Abort: AbortParams;
  Void: VoidParams;
  Refund: RefundParams;
  TransactionStatus: TransactionStatusParams;
  ConnectionInfo: ConnectionInfoParams;
}

// ---- request bodies (what goes on the wire, in the seeds' field order) ----

export interface SaleRequestBody {
  referenceID: string;
  customerOrderID?: string;
  currency: string;
  amount: string;
}
export interface RefundRequestBody {
  referenceID: string;
  orgReferenceID: string;
  currency: string;
  amount: string;
}
export interface RequestBodies {
  Pair: { pairUuid: string };
  Ack: { ackUuid: string };
  DeviceInfo: undefined;
  Sale: SaleRequestBody;
  Abort: undefined;
  Void: { orgReferenceID: string };
  Refund: RefundRequestBody;
  TransactionStatus: { targetReferenceID: string };
  ConnectionInfo: { businessID: string };
}

export interface RequestHeader {
  action?: Action;
  requestID: string;
  clientDeviceSN: string;
  timestamp: string;
}

export interface BuildOptions {
  /** The ECR's own serial number. */
  clientDeviceSN: string;
  /** Fixed request id (tests); a fresh UUID otherwise. */
  requestID?: string;
  /** Fixed clock (tests). */
  now?: Date;
  /** Offset of the timestamp in minutes east of UTC; the machine's local offset by default. */
  utcOffsetMinutes?: number;
}

export interface Request<A extends Action = Action> {
  action: A;
  requestID: string;
  /** The transaction's reference: generated for Sale and Refund when not given. */
  referenceID?: string;
  header: RequestHeader;
  body: RequestBodies[A];
  /** Compact JSON that is encrypted into the envelope's data. */
  plaintext: string;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO 8601 with offset, seconds precision: 2025-11-12T10:11:04+00:00. */
export function formatTimestamp(date: Date, utcOffsetMinutes = -date.getTimezoneOffset()): string {
  const local = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

function asObject(params: unknown, field: string): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new ValidationError(field, 'must be an object');
  }
  return params as Record<string, unknown>;
}

/** Validates a caller's parameters and gives the body in wire order. Throws ValidationError naming the field. */
export function buildBody<A extends Action>(action: A, params: RequestParams[A] | undefined): RequestBodies[A] {
  const p = asObject(params, 'payload');
  let body: unknown;
  switch (action as Action) {
    case 'Pair':
      body = { pairUuid: p.pairUuid === undefined ? randomUUID() : validateUuid(p.pairUuid, 'pairUuid') };
      break;
    case 'Ack':
      body = { ackUuid: validateText(p.ackUuid, 'ackUuid') };
      break;
    case 'DeviceInfo':
      body = undefined;
      break;
    case 'Abort':
      // The payment it names is checked here; the Abort itself has no body on the wire.
      validateOptionalReference(p.referenceID, 'referenceID');
      body = undefined;
      break;
    case 'Sale': {
      const referenceID = validateOptionalReference(p.referenceID, 'referenceID') ?? randomUUID();
      // Always one: the terminal's TransactionStatus answer names a sale by it (it carries no referenceID),
      // so a sale sent without one could never be told from the terminal's last sale of the same amount.
      const customerOrderID = validateOptionalText(p.customerOrderID, 'customerOrderID') ?? referenceID;
      const currency = validateCurrency(p.currency);
      const amount = validateAmount(p.amount, 'amount', currency);
      body = { referenceID, customerOrderID, currency, amount };
      break;
    }
    case 'Refund': {
      const referenceID = validateOptionalReference(p.referenceID, 'referenceID') ?? randomUUID();
      const orgReferenceID = validateReference(p.orgReferenceID, 'orgReferenceID');
      const currency = validateCurrency(p.currency);
      const amount = validateAmount(p.amount, 'amount', currency);
      if (referenceID === orgReferenceID) {
        throw new ValidationError('referenceID', 'a refund needs its own referenceID, not the one of the sale it refunds');
      }
      body = { referenceID, orgReferenceID, currency, amount };
      break;
    }
    case 'Void':
      body = { orgReferenceID: validateReference(p.orgReferenceID, 'orgReferenceID') };
      break;
    case 'TransactionStatus':
      body = { targetReferenceID: validateReference(p.targetReferenceID, 'targetReferenceID') };
      break;
    case 'ConnectionInfo':
      body = { businessID: validateText(p.businessID, 'businessID') };
      break;
    default:
      throw new ValidationError('action', `unknown action ${JSON.stringify(action)}`);
  }
  return body as RequestBodies[A];
}

/** Builds a request: validated body, fresh requestID, header and compact plaintext. */
export function buildRequest<A extends Action>(
  action: A,
  params: RequestParams[A] | undefined,
  options: BuildOptions,
): Request<A> {
  const body = buildBody(action, params);
  return requestOf(action, body, validateText(options.clientDeviceSN, 'clientDeviceSN'), options);
}

/**
 * A request from a body buildBody made and a clientDeviceSN validateText
 * passed (a session validates each once, not again per request): fresh
 * requestID, header and compact plaintext.
 */
export function requestOf<A extends Action>(action: A, body: RequestBodies[A], clientDeviceSN: string, options: Omit<BuildOptions, 'clientDeviceSN'> = {}): Request<A> {
  const requestID = options.requestID ?? randomUUID();
  const timestamp = formatTimestamp(options.now ?? new Date(), options.utcOffsetMinutes);
  // The seed's TransactionStatus request carries the action in its header, first.
  const header: RequestHeader =
    action === 'TransactionStatus'
      ? { action, requestID, clientDeviceSN, timestamp }
      : { requestID, clientDeviceSN, timestamp };
  const plaintext = JSON.stringify(body === undefined ? { header } : { header, body });
  const request: Request<A> = { action, requestID, header, body, plaintext };
  const referenceID = (body as { referenceID?: string } | undefined)?.referenceID;
  if (referenceID !== undefined) request.referenceID = referenceID;
  return request;
}

/** The envelope JSON text of a request, encrypted with the paired key. */
export function encodeRequest(cipher: WonderCipher, request: Request): string {
  return serializeEnvelope(request.action, cipher.encrypt(request.plaintext));
}

// ---- responses ----

export interface ResponseHeader {
  responseID: string;
  serverDeviceSN: string;
  timestamp: string;
  [extra: string]: unknown;
}

export interface StatusBody {
  status: ResultStatus;
  errorCode: string;
  errorMessage: string;
  [extra: string]: unknown;
}

export interface CreditCard {
  panPrefix6Digits: string;
  panLast4Digits: string;
  panHash: string;
  panToken: string;
}

export interface TransactionBody extends StatusBody {
  customerOrderID?: string;
  currency?: string;
  amount?: string;
  paymentMethod?: string;
  paymentEntryType?: string;
  rrn?: string;
  brn?: string;
  transactionStatus?: 'Success' | 'Failed' | 'Pending' | 'Voided' | string;
  transactionTime?: string;
  creditCard?: CreditCard;
}

export interface PairResponseBody {
  pairUuid: string;
  ackUuid: string;
  /** Cloud path: a second pin code for later commands. */
  pinCode2?: string;
  [extra: string]: unknown;
}

export interface DeviceInfoBody {
  deviceStatus: 'Free' | 'Busy' | string;
  networkStatus: 'Connected' | 'Disconnected' | string;
  softwareVersion: string;
  businessID: string;
  [extra: string]: unknown;
}

export interface ConnectionInfoBody {
  deviceSn: string;
  ip?: string;
  port?: string;
  [extra: string]: unknown;
}

export interface ResponseBodies {
  Pair: PairResponseBody;
  Ack: DeviceInfoBody;
  DeviceInfo: DeviceInfoBody;
  Sale: TransactionBody;
  Abort: StatusBody;
  Void: StatusBody;
  Refund: StatusBody;
  TransactionStatus: TransactionBody;
  ConnectionInfo: ConnectionInfoBody;
}

export interface Response<A extends Action = Action> {
  action: A;
  header: ResponseHeader;
  body: ResponseBodies[A];
}

const STATUS_ACTIONS: readonly Action[] = ['Sale', 'Abort', 'Void', 'Refund', 'TransactionStatus'];
const RESULT_STATUSES: readonly string[] = ['Success', 'Failed', 'Pending'];

function requireString(obj: Record<string, unknown>, key: string, where: string): void {
  if (typeof obj[key] !== 'string') throw new ProtocolError(`${where}.${key} is missing or not a string`);
}


/**
 * The header of a decrypted response, for matching it to its request before
 * the body is checked. A header without a UUID responseID is not what a
 * terminal writes: a SecurityError, like any other tampered plaintext.
 */
export function responseHeaderOf(plain: unknown): ResponseHeader {
  if (!isRecord(plain) || !isRecord(plain.header)) throw new SecurityError('response has no header (wrong pairing code, or tampered data)');
  checkMessageId(plain.header, 'responseID');
  return plain.header as ResponseHeader;
}

/** The header of a decrypted request (the simulator's side): a UUID requestID, or SecurityError. */
export function requestHeaderOf(plain: unknown): RequestHeader {
  if (!isRecord(plain) || !isRecord(plain.header)) throw new SecurityError('request has no header (wrong pairing code, or tampered data)');
  checkMessageId(plain.header, 'requestID');
  return plain.header as unknown as RequestHeader;
}

/** Checks a decrypted response's shape for its action (`header`: already checked by responseHeaderOf, to parse it once). */
export function parseResponse<A extends Action>(action: A, plain: unknown, header: ResponseHeader = responseHeaderOf(plain)): Response<A> {
  const raw = plain as Record<string, unknown>;
  const body = isRecord(raw.body) ? raw.body : {};
  if (STATUS_ACTIONS.includes(action)) {
    if (typeof body.status !== 'string' || !RESULT_STATUSES.includes(body.status)) {
      throw new ProtocolError(`${action} response has no valid body.status`);
    }
  } else if (action === 'Pair') {
    requireString(body, 'ackUuid', 'body');
  } else if (action === 'ConnectionInfo') {
    requireString(body, 'deviceSn', 'body');
  } else if (action === 'Ack' || action === 'DeviceInfo') {
    if (!isRecord(raw.body)) throw new ProtocolError(`${action} response has no body`);
  }
  return { action, header, body: body as ResponseBodies[A] };
}

/** Decrypts an envelope with the paired key. Wrong key or tampering: SecurityError. */
export function decodeEnvelope(cipher: WonderCipher, envelope: Envelope): unknown {
  return cipher.decryptJson(envelope.data);
}

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}
