import type { EventEmitter } from 'node:events';
import type { Action } from '../protocol';

export type TransportKind = 'serial' | 'lan' | 'cloud' | 'simulator';

/**
 * Connection state. Stream transports (serial) move through all of them;
 * request/response transports (LAN, cloud, simulator) are `connected` once
 * open and report `reconnecting` after a failed request until one succeeds.
 */
export type TransportState = 'closed' | 'connecting' | 'connected' | 'reconnecting';

export interface SendOptions {
  /** Aborts the send (and, for HTTP, the wait for its response). */
  signal: AbortSignal;
  /** The action being sent (the cloud transport routes ConnectionInfo elsewhere). */
  action: Action;
  /** The request's id, for transports that put one in their own headers. */
  requestID: string;
}

/**
 * One interface for every way of reaching a terminal.
 *
 * Events:
 * - `message` (envelope: Envelope): every envelope (see envelope.ts) received, whatever it
 *   answers. The session matches it to its request by responseID.
 * - `state` (state: TransportState, error?: Error): connection state changes.
 * - `discard` (reason: string): bytes or messages that were dropped (noise,
 *   corrupt frames, unparseable bodies). Carries no payload data.
 *
 * `send` rejects with TransportError (E_TRANSPORT / E_CLOSED) or, when the
 * signal fires, with the signal's reason. HTTP transports resolve only after
 * their response has been emitted as `message`; stream transports resolve once
 * the port has taken the bytes (not once the line has drained them).
 */
export interface Transport extends EventEmitter {
  readonly kind: TransportKind;
  readonly state: TransportState;
  open(): Promise<void>;
  close(): Promise<void>;
  send(envelope: string, options: SendOptions): Promise<void>;
}

/**
 * Whether the transport's reply to a request is its only answer (HTTP: LAN,
 * cloud): once `send` resolves, a request its reply did not answer will get
 * no other answer. Stream transports (serial, simulator) answer later, apart.
 */
export function answersInline(transport: Pick<Transport, 'kind'>): boolean {
  return transport.kind === 'lan' || transport.kind === 'cloud';
}
