/** The session layer: one TerminalSession per terminal (queue, exchange, resolver, ledger). */
export { TerminalSession } from './session';
export { PendingError, ReferenceTakenError } from './errors';
export { UNDECRYPTABLE_GRACE_MS } from './exchange';
export type { BusyPolicy, Outcome, Recovery, RequestOptions, ResultWord, SessionActivity, SessionOptions } from './types';
