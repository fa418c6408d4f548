import { hostname } from 'node:os';
import { type Action, type Asked, PAYMENT_ACTIONS, type PaymentAction } from '../protocol';
import type { RequestOptions } from './types';

/** One request as it moves through the session: built once, validated once. */
export interface RequestContext<A extends Action = Action> {
  action: A;
  /** The validated body, in wire order. */
  body: unknown;
  requestID: string;
  options: RequestOptions;
  /** When it started (the session clock's monotonic reading), for elapsedMs. */
  started: number;
}

/** A Sale, Refund or Void: what was asked, and where the journal keeps it. */
export interface PaymentContext extends RequestContext<PaymentAction> {
  asked: Asked;
  /** The journal's key (Void: `Void/<reference>`). */
  key: string;
  /** The journal holds it open from before: ask about it, never send it again. */
  askOnly: boolean;
}

/** A payment's reference: its own for Sale and Refund, the voided one for Void. */
export function paymentReference(action: PaymentAction, body: unknown): string {
  const b = body as { referenceID?: string; orgReferenceID?: string };
  return (action === 'Void' ? b.orgReferenceID : b.referenceID)!;
}

/** What was asked, from a validated body. */
export function askedOf(action: PaymentAction, body: unknown): Asked {
  const b = body as { referenceID?: string; orgReferenceID?: string; customerOrderID?: string; amount?: string; currency?: string };
  const asked: Asked = { action, referenceID: paymentReference(action, body) };
  if (b.amount !== undefined) asked.amount = b.amount;
  if (b.currency !== undefined) asked.currency = b.currency;
  if (action === 'Sale' && b.customerOrderID !== undefined) asked.customerOrderID = b.customerOrderID;
  if (action === 'Refund' && b.orgReferenceID !== undefined) asked.orgReferenceID = b.orgReferenceID;
  return asked;
}

export function isPayment(action: Action): action is PaymentAction {
  return PAYMENT_ACTIONS.includes(action);
}

/** The clientDeviceSN a request names when none is configured: this host's name (printable ASCII). */
export function defaultClientSN(): string {
  const name = hostname().replace(/[^\x20-\x7e]/g, '').slice(0, 64);
  return name.length > 0 ? name : 'node-red-ecr';
}
