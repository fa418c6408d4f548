import type { WonderError } from '../../lib/protocol';
import type { BusyPolicy, PairingStore, TerminalConfig } from '../../lib/session';

/** What a TerminalHandle is made from: a wonder-terminal config node's settings and credentials. */
export interface HandleOptions {
  config: TerminalConfig;
  pairingCode: string | undefined;
  clientDeviceSN?: string;
  paymentTimeoutMs: number;
  busyPolicy: BusyPolicy;
  /** How long an unknown outcome is asked about with TransactionStatus (default: the larger of 60 s and the card wait). */
  resolveTimeoutMs?: number;
  /** Interval between those TransactionStatus queries (default 2 s). */
  statusPollIntervalMs?: number;
  /** The transaction journal's file (in the Node-RED user directory), the terminal's name in it (its place: see terminalIdentity). */
  journalFile?: string;
  terminalId?: string;
  /** Move the journal to `journal-sn-<SN>.jsonl` once the terminal's SN is known (serial, LAN, cloud). */
  followDeviceSn?: boolean;
  /** Open nothing: another config node already uses this terminal (shown "same terminal"). */
  refuse?: WonderError;
  /** Idle health check: DeviceInfo this often while nothing else is queued or in flight (0 or absent: off). */
  healthCheckMs?: number;
  /** Where a cloud terminal's pinCode2 is kept across restarts. */
  pairingStore?: PairingStore;
}
