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

/** An operation's answer: committed, or the error that kept it out. */
export interface WriterAnswer {
  id: number;
  error?: { message: string; code?: string };
}

export type WriterReply =
  | { ready: true }
  /**
   * The answers of one transaction (or of a batch that failed), in one
   * message: `batch` operations committed together (group commit; absent
   * when nothing was committed), and first the keys of outcomes kept after
   * a failed write that are committed now.
   */
  | { answers: WriterAnswer[]; batch?: number; committed?: string[] }
  | { pruned: number }
  | { id: number; closed: true; retained: number };
