/**
 * The session layer: one TerminalSession per terminal (queue, exchange,
 * resolver, ledger), the transport factory for a terminal's
 * config, and the cloud pairing kept across restarts.
 */
export * from './session';
export * from './errors';
export { checkRefund, RefundRefusedError, type KnownPayment, type RefundBasis, type RefundRule } from './refund-bound';
export { UNDECRYPTABLE_GRACE_MS, type ExchangeEvent } from './exchange';
export type { BusyPolicy, Outcome, PaymentStore, Recovery, RequestOptions, ResultWord, SessionActivity, SessionOptions } from './types';
export * from './factory';
export * from './device-sn';
export * from './pairing-store';
export * from './cloud-pairing';
export * from './receipt';
export * from './trace';
export * from './diagnosis';
