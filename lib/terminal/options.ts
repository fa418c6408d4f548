import type { Clock } from '../clock';
import type { WonderError } from '../protocol';
import type { Ledger } from '../ledger';
import type { Transport } from '../transport';
import type { BusyPolicy, PairingStore, PaymentStore, TerminalConfig } from '../session';

/** What a Terminal is made from: a wonder-terminal config node's settings and credentials, or the command line's flags. */
export interface TerminalOptions {
  config: TerminalConfig;
  /** The transport to use, already made from `config` (default: made from it here). */
  transport?: Transport;
  pairingCode: string | undefined;
  clientDeviceSN?: string;
  paymentTimeoutMs: number;
  /** Time-out of every other action (default 10 s). */
  commandTimeoutMs?: number;
  busyPolicy: BusyPolicy;
  /** How long an unknown outcome is asked about with TransactionStatus (default: the larger of 60 s and the card wait). */
  resolveTimeoutMs?: number;
  /** Interval between those TransactionStatus queries (default 2 s). */
  statusPollIntervalMs?: number;
  /** The ledger's file (`<userDir>/wonder-ecr/ledger.db`), shared by every terminal of the runtime; the terminal's name in it (its place: see terminalIdentity). */
  ledgerFile?: string;
  /** A ledger already open (instead of `ledgerFile`): the Terminal closes it when it closes. */
  ledger?: Ledger;
  /**
   * Where its session records payments when it has no ledger (no `ledger`, no
   * `ledgerFile`): the session's narrow view of a ledger (the deterministic
   * simulation's in-memory store). No serial number is followed or recorded,
   * and the Terminal does not close it.
   */
  store?: PaymentStore;
  /** Who opens the ledger (the runtime): terminals of one owner share it, another owner is refused. */
  ledgerOwner?: unknown;
  /** Settled payments kept this many days (default 396: 13 months). */
  retentionDays?: number;
  terminalId?: string;
  /** The config node's id and where the terminal is reached (as shown): recorded on its payments. */
  configNode?: string;
  address?: string;
  /** Learn the terminal's SN from its answers and record it (serial, LAN, cloud). */
  followDeviceSn?: boolean;
  /** Whether another config node has this SN now (the same terminal configured twice). */
  snTaken?: (sn: string) => boolean;
  /** Open nothing: another config node already uses this terminal (shown "same terminal"). */
  refuse?: WonderError;
  /** Idle health check: DeviceInfo this often while nothing else is queued or in flight (0 or absent: off). */
  healthCheckMs?: number;
  /** Where a cloud terminal's pinCode2 is kept across restarts. */
  pairingStore?: PairingStore;
  /** The clock for its time-outs, checks and samples (monotonic) and the times it records (wall); default systemClock. */
  clock?: Clock;
}
