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

/** The last `limit` exchanges (default 200), oldest first. */
export class TraceLog {
  private readonly records: TraceRecord[] = [];
  private next = 0;

  constructor(readonly limit = 200) {}

  add(record: TraceRecord): void {
    if (this.records.length < this.limit) this.records.push(record);
    else this.records[this.next] = record;
    this.next = (this.next + 1) % this.limit;
  }

  list(): TraceRecord[] {
    return this.records.length < this.limit ? [...this.records] : [...this.records.slice(this.next), ...this.records.slice(0, this.next)];
  }
}
