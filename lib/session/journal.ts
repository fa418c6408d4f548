import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PaymentAction } from '../protocol';
import { archiveEntries } from './journal-archive';
import { appendDurably } from './journal-append';
import { ensurePrivateDirectory, fsyncDirectoryAsync, O_DSYNC_IF_ANY, openPrivateAppend } from './private-files';
import { JournalLock } from './journal-lock';
import { JournalFeed } from './journal-feed';

/** Actions the journal keeps: the ones that move money (PaymentAction, under the journal's name). */
export type JournalAction = PaymentAction;

/**
 * `open`: sent (or about to be), outcome unknown. `Success` / `Failed`: settled.
 * `NotSent`: never left this host (not connected, or refused before sending);
 * the same referenceID may be used again.
 */
export type JournalState = 'open' | 'Success' | 'Failed' | 'NotSent';

/** What the journal keeps of a terminal's answer: no card data. */
export interface JournalOutcome {
  status?: string;
  errorCode?: string;
  errorMessage?: string;
  transactionStatus?: string;
  amount?: string;
  currency?: string;
  rrn?: string;
  brn?: string;
  transactionTime?: string;
  resolvedBy?: string;
  /** The outcome module's verdict and reason (approved, declined, voided; reference-taken, …). */
  verdict?: string;
  reason?: string;
}

export interface JournalEntry {
  /** Sale / Refund: its referenceID. Void: the voided transaction's referenceID. */
  referenceID: string;
  action: JournalAction;
  amount?: string;
  currency?: string;
  /** Sale: the customerOrderID it was sent with (an answer naming another one is not about it). */
  customerOrderID?: string;
  orgReferenceID?: string;
  /** The terminal (config node id, or any name the caller uses). */
  terminal: string;
  /** The node that started it, to emit a recovered outcome from. */
  node?: string;
  requestID: string;
  state: JournalState;
  openedAt: string;
  closedAt?: string;
  outcome?: JournalOutcome;
}

export interface JournalOptions {
  /**
   * Settled entries kept (default 10,000: weeks of a busy kiosk). A redelivered order older than
   * that is no longer recognised as a duplicate; the terminal's own reference check is then the guard.
   */
  maxSettled?: number;
  /** The file's writer lock, taken already by the caller (JournalLock.acquire); else the constructor takes it. */
  lock?: JournalLock;
  /** Lines through an O_DSYNC descriptor (default: on Linux); false: write, then fdatasync (as elsewhere). */
  dsync?: boolean;
}

const OUTCOME_FIELDS: ReadonlyArray<keyof JournalOutcome> = [
  'status', 'errorCode', 'errorMessage', 'transactionStatus', 'amount', 'currency', 'rrn', 'brn', 'transactionTime',
];

/** Keeps only the journal's fields of a response body (never card data). */
export function journalOutcome(body: unknown, resolvedBy?: string, decision?: { verdict: string; reason: string }): JournalOutcome {
  const out: JournalOutcome = {};
  if (typeof body === 'object' && body !== null) {
    for (const key of OUTCOME_FIELDS) {
      const value = (body as Record<string, unknown>)[key];
      if (typeof value === 'string') out[key] = value.slice(0, 256);
    }
  }
  if (resolvedBy !== undefined) out.resolvedBy = resolvedBy;
  if (decision !== undefined) {
    out.verdict = decision.verdict;
    out.reason = decision.reason;
  }
  return out;
}

/** The key an action's entry is kept under. */
export function journalKey(action: JournalAction, referenceID: string): string {
  return action === 'Void' ? `Void:${referenceID}` : referenceID;
}

/**
 * Append-only transaction journal (JSON lines). Each change is one line; the
 * promise `begin` and `settle` return resolves once the line is on disk
 * (written and fdatasync'd off the event loop; lines written meanwhile share
 * one flush), so an entry is on disk before its request leaves. The in-memory
 * view changes at once and is indexed: look-ups by key, open entries by their
 * own set, so a payment costs the same with 100,000 entries as with none.
 * Reading tolerates a torn last line. When settled entries pass the bound,
 * the file is rewritten off the event loop (temp file, fsync, rename) with
 * every open entry and the newest settled ones. The directory is 0700, the
 * file 0600, and neither is opened through a symlink.
 */
export class Journal {
  readonly file: string;
  private readonly maxSettled: number;
  private readonly entries = new Map<string, JournalEntry>();
  /** Keys of the open entries. */
  private readonly open = new Set<string>();
  /** Keys of the Refund entries of each sale (its referenceID): refundsOf. */
  private readonly refundsByOrigin = new Map<string, Set<string>>();
  private fd: number;
  private lines = 0;
  private pending: string[] = [];
  private waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  /** Lines written through an O_DSYNC descriptor (see appendDurably). */
  private readonly dsync: boolean;
  /** The last append failed, maybe part-way through a line: the next one starts on a fresh line. */
  private tornTail = false;
  private compactWanted = false;
  /** One writer per file: held from here to close() (JournalLockedError when another live writer holds it). */
  private readonly lock: JournalLock;
  /** Every change to the in-memory view, for readers that keep figures up to date. */
  readonly changes = new JournalFeed<JournalEntry>();

  constructor(file: string, options: JournalOptions = {}) {
    this.file = file;
    this.maxSettled = options.maxSettled ?? 10_000;
    this.dsync = options.dsync ?? O_DSYNC_IF_ANY !== undefined;
    ensurePrivateDirectory(path.dirname(file));
    this.lock = options.lock ?? JournalLock.acquire(file);
    try {
      this.load();
      this.fd = openPrivateAppend(file, { dsync: this.dsync });
    } catch (err) {
      this.lock.release();
      throw err;
    }
    if (this.lines > 2 * (this.maxSettled + this.open.size)) {
      this.compactWanted = true;
      this.flushing = this.flush();
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Open entries (all terminals). */
  get openCount(): number {
    return this.open.size;
  }

  get(action: JournalAction, referenceID: string): JournalEntry | undefined {
    return this.entries.get(journalKey(action, referenceID));
  }

  /** Any entry with this referenceID as its own (Sale or Refund). */
  byReference(referenceID: string): JournalEntry | undefined {
    return this.entries.get(referenceID);
  }

  /**
   * The Refund entries that name `orgReferenceID` as the sale they refund
   * (any state), from an index: the same cost with 100,000 entries as with
   * none. A refund is held against its sale with these (PaymentLedger).
   */
  refundsOf(orgReferenceID: string): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const key of this.refundsByOrigin.get(orgReferenceID) ?? []) {
      const e = this.entries.get(key);
      if (e !== undefined && e.action === 'Refund' && e.orgReferenceID === orgReferenceID) out.push(e);
    }
    return out;
  }

  openEntries(terminal?: string): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const key of this.open) {
      const e = this.entries.get(key)!;
      if (terminal === undefined || e.terminal === terminal) out.push(e);
    }
    return out;
  }

  all(): JournalEntry[] {
    return [...this.entries.values()];
  }

  /** Records a payment about to be sent; resolves once it is on disk. */
  async begin(entry: Omit<JournalEntry, 'state' | 'openedAt'> & { openedAt?: string }): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, state: 'open', openedAt: entry.openedAt ?? new Date().toISOString() };
    await this.write(full);
    return full;
  }

  /**
   * Records the outcome and closes the entry; resolves once it is on disk.
   * The in-memory entry is closed at once, even when the write fails.
   */
  async recordOutcome(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<JournalEntry | undefined> {
    const current = this.get(action, referenceID);
    if (current === undefined) return undefined;
    const next: JournalEntry = { ...current, state, closedAt: new Date().toISOString() };
    if (outcome !== undefined) next.outcome = outcome;
    if (this.entries.size - this.open.size + 1 > this.maxSettled * 1.25) this.compactWanted = true;
    await this.write(next);
    return next;
  }

  /** @deprecated Use recordOutcome (the same: records the outcome and closes the entry). */
  settle(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<JournalEntry | undefined> {
    return this.recordOutcome(action, referenceID, state, outcome);
  }

  /** Waits for what is being written, then closes the file. */
  async close(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    this.lock.release();
  }

  private remember(entry: JournalEntry): void {
    const key = journalKey(entry.action, entry.referenceID);
    // Delete first: the map's order is the order of last change (compaction keeps the newest).
    const before = this.entries.get(key);
    if (before !== undefined) this.unindexRefund(before, key);
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (entry.action === 'Refund' && typeof entry.orgReferenceID === 'string') {
      let keys = this.refundsByOrigin.get(entry.orgReferenceID);
      if (keys === undefined) this.refundsByOrigin.set(entry.orgReferenceID, (keys = new Set()));
      keys.add(key);
    }
    if (entry.state === 'open') this.open.add(key);
    else this.open.delete(key);
    this.changes.push(entry);
  }

  private unindexRefund(entry: JournalEntry, key: string): void {
    if (entry.action !== 'Refund' || typeof entry.orgReferenceID !== 'string') return;
    const keys = this.refundsByOrigin.get(entry.orgReferenceID);
    keys?.delete(key);
    if (keys?.size === 0) this.refundsByOrigin.delete(entry.orgReferenceID);
  }

  private write(entry: JournalEntry): Promise<void> {
    if (this.fd < 0) return Promise.reject(new Error('the journal is closed'));
    this.remember(entry);
    this.lines++;
    this.pending.push(`${JSON.stringify(entry)}\n`);
    const durable = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.flushing ??= this.flush();
    return durable;
  }

  /** Writes what is pending in one append and one fdatasync, until nothing is left; compacts between. Never rejects. */
  private async flush(): Promise<void> {
    try {
      do {
        while (this.pending.length > 0) {
          // After a failed append the file may end in part of a line: a newline first, or this text would be glued to it and lost at the next load.
          const text = (this.tornTail ? '\n' : '') + this.pending.join('');
          const waiting = this.waiting;
          this.pending = [];
          this.waiting = [];
          try {
            await appendDurably(this.fd, text, this.dsync);
            this.tornTail = false;
            for (const w of waiting) w.resolve();
          } catch (err) {
            this.tornTail = true;
            for (const w of waiting) w.reject(err);
          }
        }
        // Nothing in flight: the file may be rewritten now. Lines written meanwhile go to the new file.
        if (this.compactWanted) {
          this.compactWanted = false;
          try {
            await this.compact();
          } catch {
            // Disk full, say: keep appending to the file as it is; the next settle tries again.
            await fs.promises.rm(`${this.file}.tmp`, { force: true }).catch(() => undefined);
          }
        }
      } while (this.pending.length > 0);
    } finally {
      this.flushing = undefined;
    }
  }

  private load(): void {
    let text: string;
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${this.file} is a symbolic link; the journal is never opened through one`);
      throw err;
    }
    try {
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
    const lines = text.split('\n');
    let goodBytes = 0;
    for (const [i, line] of lines.entries()) {
      const isLast = i === lines.length - 1;
      if (line === '') {
        if (!isLast) goodBytes += 1;
        continue;
      }
      let entry: JournalEntry | undefined;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        entry = undefined;
      }
      if (entry === undefined || entry === null || typeof entry.referenceID !== 'string' || typeof entry.action !== 'string') {
        // A torn write (power cut) can only be the last line: drop it.
        if (isLast) break;
        goodBytes += Buffer.byteLength(line) + 1;
        continue;
      }
      this.remember(entry);
      this.lines++;
      goodBytes += Buffer.byteLength(line) + (isLast ? 0 : 1);
    }
    // Cut a torn tail, and make sure the next append starts on a fresh line.
    if (goodBytes < Buffer.byteLength(text)) fs.truncateSync(this.file, goodBytes);
    const kept = Buffer.from(text).subarray(0, goodBytes);
    if (kept.length > 0 && kept[kept.length - 1] !== 0x0a) {
      const afd = openPrivateAppend(this.file);
      try {
        fs.writeSync(afd, '\n');
      } finally {
        fs.closeSync(afd);
      }
    }
  }

  /**
   * Rewrites the file with the open entries and the newest settled ones, off
   * the event loop. The settled ones it drops are first appended to the
   * journal's monthly archives (journal-archive.ts) and fsync'd: history is
   * never lost, only moved out of the file a payment reads at start.
   */
  private async compact(): Promise<void> {
    const linesAtStart = this.lines;
    const settledCount = this.entries.size - this.open.size;
    let toDrop = Math.max(0, settledCount - this.maxSettled);
    const drop: JournalEntry[] = [];
    const keep: string[] = [];
    for (const e of this.entries.values()) {
      if (toDrop > 0 && e.state !== 'open') {
        drop.push(e);
        toDrop--;
      } else {
        keep.push(`${JSON.stringify(e)}\n`);
      }
    }
    if (drop.length > 0) await archiveEntries(this.file, drop);
    const temp = `${this.file}.tmp`;
    const handle = await fs.promises.open(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(keep.join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    const fresh = openPrivateAppend(temp, { dsync: this.dsync });
    try {
      await fs.promises.rename(temp, this.file);
    } catch (err) {
      fs.closeSync(fresh);
      throw err;
    }
    // The rename itself made durable (POSIX does not promise it survives a power cut otherwise).
    await fsyncDirectoryAsync(path.dirname(this.file));
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fresh;
    for (const e of drop) {
      const key = journalKey(e.action, e.referenceID);
      if (this.entries.get(key) === e) {
        this.entries.delete(key);
        this.unindexRefund(e, key);
      }
    }
    this.changes.reset();
    // Lines written while the copy was made went to the new file too.
    this.lines = keep.length + (this.lines - linesAtStart);
  }
}

/** Open entries in a journal file, read without taking it over (for a warning about a journal no terminal uses). */
export function openPaymentsIn(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const latest = new Map<string, JournalState>();
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (typeof e.referenceID === 'string' && typeof e.action === 'string') latest.set(journalKey(e.action, e.referenceID), e.state);
    } catch {
      // a torn line
    }
  }
  return [...latest.values()].filter((state) => state === 'open').length;
}
