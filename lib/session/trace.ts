/**
 * One exchange in a terminal's trace, for a support desk: when, which way,
 * which action and request, how big, what came of it. Never ciphertext,
 * card data or a secret.
 */
export interface TraceRecord {
  /** ISO time. */
  at: string;
  direction: 'out' | 'in';
  action: string;
  requestID?: string;
  /** Bytes on the wire. */
  bytes: number;
  /** A short word: sent, answered, approved, declined, unknown, timeout, undecryptable, noise, … */
  result: string;
  /** A burst (noise, frames that did not decrypt, strays) kept as one record: how many, and the ISO time of the last. */
  count?: number;
  lastAt?: string;
}

/**
 * A record as the log keeps it: times in epoch milliseconds (a number costs
 * nothing per exchange; the ISO text is made only when the trace is read).
 */
export interface TraceEntry extends Omit<TraceRecord, 'at' | 'lastAt'> {
  atMs: number;
  lastAtMs?: number;
}

/** The last `limit` exchanges (default 200), oldest first. */
export class TraceLog {
  private readonly records: TraceEntry[] = [];
  private next = 0;

  constructor(readonly limit = 200) {}

  /** Keeps a record (the caller may still change it: a verdict, a burst's count). */
  add(record: TraceEntry): void {
    if (this.records.length < this.limit) this.records.push(record);
    else this.records[this.next] = record;
    this.next = (this.next + 1) % this.limit;
  }

  /** The records, oldest first, as copies with ISO times. */
  list(): TraceRecord[] {
    const ordered = this.records.length < this.limit ? this.records : [...this.records.slice(this.next), ...this.records.slice(0, this.next)];
    return ordered.map(readable);
  }
}

function readable(entry: TraceEntry): TraceRecord {
  const { atMs, lastAtMs, ...rest } = entry;
  return { at: new Date(atMs).toISOString(), ...rest, ...(lastAtMs !== undefined ? { lastAt: new Date(lastAtMs).toISOString() } : {}) };
}
