/** Messages between the ledger (main thread) and its writer (worker thread). */

export type SqlValue = string | number | null;

export type WriteOp =
  /** A payment's whole row (insert, or replace the row of the same key). */
  | { op: 'payment'; row: Record<string, SqlValue> }
  /** A payment's outcome: its state, when, and the outcome columns. */
  | { op: 'settle'; key: string; state: string; closedAt: number; outcome: Record<string, SqlValue> }
  /**
   * A note that the payment's outcome reached the flow. Not urgent: it rides
   * in the next transaction, or is committed alone once the writer has been
   * idle for `noteDelayMs`, or at close (see writer.ts).
   */
  | { op: 'delivered'; key: string; at: number }
  /** Commits the notes waiting (nothing else to write). */
  | { op: 'flush' }
  | { op: 'lookup'; row: Record<string, SqlValue> }
  | { op: 'terminal'; row: Record<string, SqlValue> }
  | { op: 'easycard'; row: Record<string, SqlValue> }
  | { op: 'pairing'; row: Record<string, SqlValue> }
  | { op: 'pairing-remove'; row: Record<string, SqlValue> }
  | { op: 'meta'; name: string; value: string }
  | { op: 'close' };

export interface WriterRequest {
  id: number;
  op: WriteOp;
}

export type WriterReply =
  | { ready: true }
  /** An operation's answer: committed, or the error that kept it out. */
  | { id: number; error?: { message: string; code?: string }; closed?: undefined }
  /** Outcomes kept after a failed write, committed now (their keys). */
  | { committed: string[] }
  | { pruned: number }
  /** A transaction committed with this many operations (group commit). */
  | { batch: number }
  | { id: number; closed: true; retained: number };
