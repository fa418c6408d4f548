/**
 * The ledger: one SQLite file shared by every terminal of a process (one
 * owner per file, see owner.ts). Writes go to the writer thread (writer.ts)
 * and are committed in groups off the event loop; each write's promise
 * resolves once its transaction has committed. Point reads (a payment by key
 * or reference, a terminal's open payments, a sale's refunds) run on this
 * thread's own connection through indexes, in microseconds, and see the
 * writes not committed yet (kept here meanwhile), so the session's view of a
 * payment changes at once.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { type Clock, systemClock } from '../clock';
import { entryOfRow, journalKey, outcomeColumns, rowOfEntry, type JournalAction, type JournalEntry, type JournalOutcome, type JournalState, type PaymentRow } from './entries';
import { LedgerBusyError, takeOwnerLock, type LedgerOwnerInfo } from './owner';
import { checkPrivateFile, ensurePrivateDirectory } from './private-files';
import { migrate, WRITER_PRAGMAS } from './schema';
import type { SqlValue, WriteOp, WriterAnswer, WriterReply, WriterRequest } from './writer-protocol';

/** Settled payments are kept this long by default: 13 months (a year and the month before it, for year-on-year figures). */
export const DEFAULT_RETENTION_DAYS = 396;

/** The ledger's file in a directory (a Node-RED user directory's `wonder-ecr`, a CLI state folder). */
export const LEDGER_FILE_NAME = 'ledger.db';

export interface LedgerOptions {
  /**
   * Who opens it. Opens of one file with the same owner share one ledger (the
   * terminals of one runtime); another owner in this process is refused, as
   * another process is. Default: the process itself.
   */
  owner?: unknown;
  /** Settled payments kept this many days (default DEFAULT_RETENTION_DAYS); 0 keeps them for ever. */
  retentionDays?: number;
  /** Settled payments deleted per transaction by the writer (default 500). */
  pruneBatch?: number;
  /** How often the writer looks for payments past the retention (default hourly). */
  pruneEveryMs?: number;
  /** The timestamps it records (opened, closed, delivered, asked) are this clock's wall reading (default the system's). */
  clock?: Clock;
  /** A delivery note waits at most this long for a transaction to ride in before it is committed alone (default 1,000 ms). */
  noteDelayMs?: number;
}

/** Rows this ledger wrote lately, kept to answer reads of the payments in hand without a query. */
const RECENT_ROWS = 512;

/**
 * Every open payment, oldest first. `+opened_at` keeps SQLite from walking the
 * opened_at index over every payment ever kept: the partial index of open
 * payments is read instead (a handful of rows, then sorted), so the query
 * stays a fraction of a millisecond on the event loop however large the ledger.
 */
export const OPEN_PAYMENTS_SQL = "SELECT * FROM payments WHERE state = 'open' ORDER BY +opened_at";

/** Which open payments a terminal sees: those made under its name, and those of its serial number wherever they were made. */
export interface TerminalFilter {
  terminal?: string;
  deviceSn?: string;
}

/** Who asked a TransactionStatus about a payment. */
export type LookupAskedBy = 'answer' | 'recovery' | 'status-node' | 'operator';

export interface LookupRecord {
  action: JournalAction;
  referenceID: string;
  askedBy: LookupAskedBy;
  terminal?: string;
  deviceSn?: string;
  transactionStatus?: string;
  verdict?: string;
  reason?: string;
  result?: string;
}

interface Shared {
  ledger: Ledger;
  owner: unknown;
  refs: number;
}

const PROCESS_OWNER = Symbol('this process');
const open = new Map<string, Shared>();

/** The resolved path a ledger file is known under (its directory's real path: one ledger, one entry). */
function resolvedPath(file: string): string {
  const dir = path.dirname(path.resolve(file));
  return path.join(fs.realpathSync(dir), path.basename(file));
}

/**
 * Opens (or shares) the ledger in `file`, creating it and its directory
 * (mode 0700) as needed. Throws LedgerBusyError when another process, or
 * another owner in this one, has it.
 */
export function openLedger(file: string, options: LedgerOptions = {}): Ledger {
  ensurePrivateDirectory(path.dirname(path.resolve(file)));
  // Never through a symbolic link, never a file another user owns or can write (planted payments would be "recorded").
  for (const suffix of ['', '-wal', '-shm', '-owner']) checkPrivateFile(`${file}${suffix}`);
  const resolved = resolvedPath(file);
  const owner = options.owner ?? PROCESS_OWNER;
  const shared = open.get(resolved);
  if (shared !== undefined) {
    if (shared.owner !== owner) throw new LedgerBusyError(resolved, undefined, true);
    shared.refs++;
    return shared.ledger;
  }
  const ledger = new Ledger(resolved, options);
  open.set(resolved, { ledger, owner, refs: 1 });
  return ledger;
}

/** A write waiting for its answer; `holds`: it keeps the process alive meanwhile (a delivery note does not). */
type Waiter = { resolve: () => void; reject: (err: Error) => void; holds: boolean };

/** A write the ledger could not commit: the disk is full, say. */
export class LedgerWriteError extends Error {
  constructor(
    message: string,
    readonly sqliteCode?: string,
  ) {
    super(message);
    this.name = 'LedgerWriteError';
  }
}

export class Ledger {
  readonly file: string;
  readonly #clock: Clock;
  readonly #db: DatabaseSync;
  readonly #lock: DatabaseSync;
  readonly #worker: Worker;
  readonly #statements = new Map<string, StatementSync>();
  readonly #waiting = new Map<number, Waiter>();
  /** Waiters that keep the writer referenced. */
  #holding = 0;
  /**
   * The rows of payments this ledger wrote lately, as committed (least recently
   * written first; at most RECENT_ROWS): a payment in hand (its outcome, its
   * receipt) is read from here, not queried. This ledger is the file's only
   * writer, so a row here is the row on disk; dropped when a write of it fails,
   * and all of them when the writer prunes.
   */
  readonly #recent = new Map<string, PaymentRow>();
  /**
   * Every open payment (key → terminal and serial number): those open on disk
   * at start, and those this ledger began since, until their outcome (or a
   * failed first write) closes them. A terminal none of them names has no open
   * payment, and is answered without a query.
   */
  readonly #openKeys = new Map<string, { terminal: string; deviceSn: string | null }>();
  /** Payments written and not committed yet, or whose outcome could not be committed yet: what reads see first. */
  readonly #overlay = new Map<string, JournalEntry>();
  /** Keys whose outcome is kept in memory after a failed write (committed before anything else). */
  readonly #behind = new Set<string>();
  #nextId = 1;
  /** Requests not yet sent to the writer (see #post). */
  #outbox: WriterRequest[] = [];
  #broken: Error | undefined;
  #closing: Promise<void> | undefined;
  #exited: Promise<void>;
  #closedReply: ((retained: number) => void) | undefined;
  /** Transactions the writer committed, the operations in them, and the settled payments it deleted past the retention. */
  readonly stats = { transactions: 0, operations: 0, pruned: 0 };
  /** Called when outcomes kept after a failed write are committed (their keys). */
  onCaughtUp: ((keys: string[]) => void) | undefined;

  /** Use openLedger (one ledger per file and owner). */
  constructor(file: string, options: LedgerOptions = {}) {
    this.file = file;
    this.#clock = options.clock ?? systemClock;
    const db = new DatabaseSync(file);
    let lock: DatabaseSync | undefined;
    try {
      db.exec(`PRAGMA busy_timeout = 10000; ${WRITER_PRAGMAS}`);
      lock = takeOwnerLock(file, () => this.#ownerOf(db));
      migrate(db, file);
      db.prepare('INSERT INTO owner (id, pid, host, started_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at').run(process.pid, os.hostname(), this.#clock.wall());
    } catch (err) {
      lock?.close();
      db.close();
      throw err;
    }
    for (const suffix of ['', '-wal', '-shm', '-owner']) {
      try {
        fs.chmodSync(`${file}${suffix}`, 0o600);
      } catch {
        // not there (yet)
      }
    }
    this.#db = db;
    this.#lock = lock;
    for (const r of db.prepare("SELECT key, terminal, device_sn FROM payments WHERE state = 'open'").all() as Array<{ key: string; terminal: string; device_sn: string | null }>) {
      this.#openKeys.set(r.key, { terminal: r.terminal, deviceSn: r.device_sn });
    }
    const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.#worker = new Worker(path.join(__dirname, 'writer.js'), {
      workerData: {
        file,
        retentionMs: retentionDays * 86_400_000,
        pruneBatch: options.pruneBatch ?? 500,
        pruneEveryMs: options.pruneEveryMs ?? 3_600_000,
        noteDelayMs: options.noteDelayMs ?? 1_000,
      },
      // Its output is passed on only if it writes any: the process's own stdout and stderr are not opened for nothing.
      stdout: true,
      stderr: true,
    });
    this.#worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    this.#worker.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => this.#onReply(reply));
    this.#exited = new Promise((resolve) => {
      this.#worker.on('error', (err) => this.#fail(err));
      this.#worker.on('exit', () => {
        this.#fail(new Error('the ledger writer stopped'));
        resolve();
      });
    });
  }

  #ownerOf(db: DatabaseSync): LedgerOwnerInfo | undefined {
    try {
      const row = db.prepare('SELECT pid, host, started_at FROM owner WHERE id = 1').get() as { pid: number; host: string; started_at: number } | undefined;
      return row === undefined ? undefined : { pid: row.pid, host: row.host, startedAt: row.started_at };
    } catch {
      return undefined;
    }
  }

  /** The ledger's recorded owner (this process, once open). */
  get owner(): LedgerOwnerInfo | undefined {
    return this.#ownerOf(this.#db);
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #onReply(reply: WriterReply): void {
    if ('ready' in reply) return;
    if ('pruned' in reply) {
      this.stats.pruned += reply.pruned;
      if (reply.pruned > 0) this.#recent.clear();
      return;
    }
    if ('answers' in reply) {
      if (reply.batch !== undefined) {
        this.stats.transactions++;
        this.stats.operations += reply.batch;
      }
      if (reply.committed !== undefined) {
        for (const key of reply.committed) {
          this.#behind.delete(key);
          this.#overlay.delete(key);
        }
        this.onCaughtUp?.(reply.committed);
      }
      for (const a of reply.answers) this.#answer(a);
      return;
    }
    this.#closedReply?.(reply.retained);
  }

  #answer(a: WriterAnswer): void {
    const w = this.#waiting.get(a.id);
    if (w === undefined) return;
    this.#waiting.delete(a.id);
    if (w.holds && --this.#holding === 0) this.#worker.unref();
    if (a.error !== undefined) w.reject(new LedgerWriteError(`the ledger ${this.file} could not be written: ${a.error.message}`, a.error.code));
    else w.resolve();
  }

  #fail(err: Error): void {
    this.#broken ??= err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
    this.#holding = 0;
  }

  /** Posts a write; resolves once it has committed. A delivery note does not keep the process alive while it waits. */
  #write(op: WriteOp): Promise<void> {
    if (this.#broken !== undefined || this.#closing !== undefined) return Promise.reject(this.#broken ?? new Error(`the ledger ${this.file} is closed`));
    const id = this.#nextId++;
    const holds = op.op !== 'delivered';
    return new Promise<void>((resolve, reject) => {
      if (holds && this.#holding++ === 0) this.#worker.ref();
      this.#waiting.set(id, { resolve, reject, holds });
      this.#post({ id, op });
    });
  }

  /**
   * Writes asked for in one turn of the event loop (the answers of many
   * terminals read in one poll, say) go to the writer in one message, sent
   * once those callbacks have run.
   */
  #post(request: WriterRequest): void {
    this.#outbox.push(request);
    if (this.#outbox.length === 1) setImmediate(this.#send);
  }

  readonly #send = (): void => {
    if (this.#outbox.length === 0) return;
    const requests = this.#outbox;
    this.#outbox = [];
    this.#worker.postMessage(requests);
  };

  /** Keeps `row` as the committed row of its payment (the most recent last). */
  #remember(row: PaymentRow): void {
    this.#recent.delete(row.key);
    this.#recent.set(row.key, row);
    if (this.#recent.size > RECENT_ROWS) this.#recent.delete(this.#recent.keys().next().value!);
  }

  // Reads --------------------------------------------------------------------

  #row(key: string): JournalEntry | undefined {
    const row = this.#stmt('SELECT * FROM payments WHERE key = ?').get(key) as PaymentRow | undefined;
    return row === undefined ? undefined : entryOfRow(row);
  }

  /** A payment by its key (journalKey). */
  getByKey(key: string): JournalEntry | undefined {
    const overlaid = this.#overlay.get(key);
    if (overlaid !== undefined) return overlaid;
    const recent = this.#recent.get(key);
    return recent !== undefined ? entryOfRow(recent) : this.#row(key);
  }

  get(action: JournalAction, referenceID: string): JournalEntry | undefined {
    return this.getByKey(journalKey(action, referenceID));
  }

  /** The Sale or Refund that has this referenceID as its own. */
  byReference(referenceID: string): JournalEntry | undefined {
    return this.getByKey(referenceID);
  }

  /** Rows from the database with the overlay's newer versions in their place, and the overlay's own that `keep` accepts. */
  #merged(rows: PaymentRow[], keep: (e: JournalEntry) => boolean): JournalEntry[] {
    const out: JournalEntry[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.key);
      const e = this.#overlay.get(row.key) ?? entryOfRow(row);
      if (keep(e)) out.push(e);
    }
    for (const [key, e] of this.#overlay) if (!seen.has(key) && keep(e)) out.push(e);
    return out;
  }

  /** Open payments: all of them, or a terminal's (made under its name, or by its serial number anywhere). Oldest first. */
  openEntries(filter?: TerminalFilter | string): JournalEntry[] {
    const f: TerminalFilter = typeof filter === 'string' ? { terminal: filter } : (filter ?? {});
    const matches = (e: JournalEntry) =>
      e.state === 'open' && ((f.terminal === undefined && f.deviceSn === undefined) || (f.terminal !== undefined && e.terminal === f.terminal) || (f.deviceSn !== undefined && e.deviceSn === f.deviceSn));
    if (!this.#mayBeOpen(f)) return [];
    let rows: PaymentRow[];
    if (f.terminal === undefined && f.deviceSn === undefined) rows = this.#stmt(OPEN_PAYMENTS_SQL).all() as unknown as PaymentRow[];
    else
      rows = this.#stmt(
        "SELECT * FROM payments WHERE state = 'open' AND terminal = :terminal UNION SELECT * FROM payments WHERE state = 'open' AND device_sn = :sn ORDER BY opened_at",
      ).all({ terminal: f.terminal ?? null, sn: f.deviceSn ?? null }) as unknown as PaymentRow[];
    // ISO times of one form: compared as strings (a collation would cost a millisecond per thousand payments).
    return this.#merged(rows, matches).sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : 0));
  }

  /** Whether a payment the filter names may be open (false: certainly none is). */
  #mayBeOpen(f: TerminalFilter): boolean {
    if (f.terminal === undefined && f.deviceSn === undefined) return this.#openKeys.size > 0;
    for (const o of this.#openKeys.values()) if (o.terminal === f.terminal || (f.deviceSn !== undefined && o.deviceSn === f.deviceSn)) return true;
    return false;
  }

  /**
   * How many payments are open at each place (terminal name) and serial
   * number: counted from the open payments' keys in hand, no payment read (a
   * query would read each one's row: thousands of pages for thousands open).
   */
  openPlaces(): Array<{ terminal: string; deviceSn?: string; count: number }> {
    const places = new Map<string, { terminal: string; deviceSn?: string; count: number }>();
    for (const o of this.#openKeys.values()) {
      const id = `${o.terminal}\u0000${o.deviceSn ?? ''}`;
      const place = places.get(id);
      if (place !== undefined) place.count++;
      else places.set(id, { terminal: o.terminal, ...(o.deviceSn !== null ? { deviceSn: o.deviceSn } : {}), count: 1 });
    }
    return [...places.values()];
  }

  /** Open payments of every terminal. */
  get openCount(): number {
    return this.openEntries().length;
  }

  /**
   * The Refunds that name `saleReferenceID` as the sale they refund, in any
   * state (the refund bound counts the open and approved ones), through the
   * index on org_reference_id.
   */
  refundsOf(saleReferenceID: string): JournalEntry[] {
    const rows = this.#stmt("SELECT * FROM payments WHERE org_reference_id = ? AND kind = 'Refund'").all(saleReferenceID) as unknown as PaymentRow[];
    return this.#merged(rows, (e) => e.action === 'Refund' && e.orgReferenceID === saleReferenceID);
  }

  /** Payments that carried this customerOrderID (any state), oldest first. */
  byCustomerOrderID(customerOrderID: string): JournalEntry[] {
    const rows = this.#stmt('SELECT * FROM payments WHERE customer_order_id = ? ORDER BY opened_at').all(customerOrderID) as unknown as PaymentRow[];
    return this.#merged(rows, (e) => e.customerOrderID === customerOrderID);
  }

  /** The serial number last seen at a terminal's address (its place identity), if any. */
  knownSn(address: string): string | undefined {
    const row = this.#stmt('SELECT device_sn FROM terminals WHERE address = ? ORDER BY last_seen DESC LIMIT 1').get(address) as { device_sn: string } | undefined;
    return row?.device_sn;
  }

  /** A value kept in `meta`. */
  meta(name: string): string | undefined {
    return (this.#stmt('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  /** One read-only query on this thread's connection (for small, indexed reads of the layers above). */
  query<T>(sql: string, params: Record<string, SqlValue> | SqlValue[] = []): T[] {
    const s = this.#stmt(sql);
    return (Array.isArray(params) ? s.all(...params) : s.all(params)) as T[];
  }

  /** Keys whose outcome is kept in memory only (not written yet: the disk was full, say). */
  get behind(): string[] {
    return [...this.#behind];
  }

  // Writes -------------------------------------------------------------------

  /** Records a payment about to be sent; resolves once it is committed. */
  async begin(entry: Omit<JournalEntry, 'state' | 'openedAt'> & { openedAt?: string }): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, state: 'open', openedAt: entry.openedAt ?? new Date(this.#clock.wall()).toISOString() };
    const key = journalKey(full.action, full.referenceID);
    const row = rowOfEntry(full);
    this.#overlay.set(key, full);
    this.#recent.delete(key);
    this.#openKeys.set(key, { terminal: full.terminal, deviceSn: full.deviceSn ?? null });
    try {
      await this.#write({ op: 'payment', row });
      if (this.#overlay.get(key) === full) this.#remember(row as unknown as PaymentRow);
    } catch (err) {
      // Not written: the payment is not open (the row before it, if any, stays as it was).
      if (this.#overlay.get(key) === full) this.#openKeys.delete(key);
      throw err;
    } finally {
      if (this.#overlay.get(key) === full) this.#overlay.delete(key);
    }
    return full;
  }

  /**
   * Records the outcome and closes the payment; resolves once committed. The
   * payment reads as closed at once. When the write fails the outcome is kept
   * (in memory here and in the writer) and committed before anything else.
   */
  async recordOutcome(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<JournalEntry | undefined> {
    const current = this.get(action, referenceID);
    if (current === undefined) return undefined;
    const closedAt = this.#clock.wall();
    const next: JournalEntry = { ...current, state, closedAt: new Date(closedAt).toISOString() };
    if (outcome !== undefined) next.outcome = outcome;
    else delete next.outcome;
    const key = journalKey(action, referenceID);
    const columns = outcomeColumns(outcome);
    const before = this.#recent.get(key);
    this.#overlay.set(key, next);
    this.#recent.delete(key);
    this.#openKeys.delete(key);
    try {
      await this.#write({ op: 'settle', key, state, closedAt, outcome: columns });
    } catch (err) {
      // Kept: the writer commits it before anything else; reads see it closed meanwhile.
      if (this.#overlay.get(key) === next) this.#behind.add(key);
      throw err;
    }
    if (this.#overlay.get(key) === next) {
      this.#overlay.delete(key);
      // The row as the UPDATE left it, when the row before it was in hand.
      if (before !== undefined) this.#remember({ ...before, state, closed_at: closedAt, ...columns } as PaymentRow);
    }
    return next;
  }

  /** The same as recordOutcome. */
  settle(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<JournalEntry | undefined> {
    return this.recordOutcome(action, referenceID, state, outcome);
  }

  /** Notes that a payment's outcome reached the flow (once; later calls change nothing). */
  markDelivered(action: JournalAction, referenceID: string): Promise<void> {
    const key = journalKey(action, referenceID);
    const at = this.#clock.wall();
    // Once on disk, the row in hand is not the row there any more: read again when asked.
    return this.#write({ op: 'delivered', key, at }).then(() => void this.#recent.delete(key));
  }

  /** Records a TransactionStatus asked about a payment. */
  recordLookup(l: LookupRecord): Promise<void> {
    return this.#write({
      op: 'lookup',
      row: {
        payment_key: journalKey(l.action, l.referenceID),
        reference: l.referenceID,
        asked_at: this.#clock.wall(),
        asked_by: l.askedBy,
        terminal: l.terminal ?? null,
        device_sn: l.deviceSn ?? null,
        transaction_status: l.transactionStatus?.slice(0, 64) ?? null,
        verdict: l.verdict ?? null,
        reason: l.reason ?? null,
        result: l.result ?? null,
      },
    });
  }

  /** Records that the terminal at `address` has serial number `deviceSn` now. */
  rememberTerminal(t: { address: string; deviceSn: string; configNode?: string; transport?: string }): Promise<void> {
    return this.#write({ op: 'terminal', row: { address: t.address, device_sn: t.deviceSn, config_node: t.configNode ?? null, transport: t.transport ?? null, at: this.#clock.wall() } });
  }

  /** Writes an EasyCard run's row (columns of easycard_runs). */
  writeEasyCardRun(row: Record<string, SqlValue>): Promise<void> {
    return this.#write({ op: 'easycard', row });
  }

  /** Writes a cloud pairing's sealed record (columns of cloud_pairing). */
  writePairing(row: Record<string, SqlValue>): Promise<void> {
    return this.#write({ op: 'pairing', row });
  }

  removePairing(businessId: string, deviceSn: string): Promise<void> {
    return this.#write({ op: 'pairing-remove', row: { business_id: businessId, device_sn: deviceSn } });
  }

  setMeta(name: string, value: string): Promise<void> {
    return this.#write({ op: 'meta', name, value });
  }

  /** Resolves once every write posted so far is answered. */
  async settled(): Promise<void> {
    if (this.#waiting.size === 0) return;
    // Delivery notes waiting for a transaction are committed now.
    this.#write({ op: 'flush' }).catch(() => undefined);
    await new Promise<void>((resolve) => {
      const check = () => (this.#waiting.size === 0 ? resolve() : setImmediate(check));
      check();
    });
  }

  /** Whether this ledger is shared by other openers still (close() of the last one closes it). */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Gives this opener's use back; the last one commits what is pending
   * (outcomes kept after a failed write too, if they can be now), stops the
   * writer and releases the owner lock.
   */
  close(): Promise<void> {
    const shared = open.get(this.file);
    if (shared !== undefined && shared.ledger === this && shared.refs > 1) {
      shared.refs--;
      return Promise.resolve();
    }
    if (this.#closing !== undefined) return this.#closing;
    if (shared?.ledger === this) open.delete(this.file);
    this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#broken === undefined) {
      this.#worker.ref();
      const done = new Promise<number>((resolve) => (this.#closedReply = resolve));
      this.#post({ id: this.#nextId++, op: { op: 'close' } });
      this.#send();
      await Promise.race([done, this.#exited]);
    }
    await this.#worker.terminate();
    await this.#exited;
    this.#statements.clear();
    this.#db.close();
    this.#lock.close();
  }
}

/**
 * One small read on the ledger in `file`, for what is read once at a start (a
 * cloud pairing): through the ledger open on it in this process, else on a
 * connection of its own closed before this returns — no writer thread started
 * and no owner lock taken for a read. No rows when there is no ledger yet.
 */
export function readLedgerRows<T>(file: string, sql: string, params: SqlValue[] = []): T[] {
  const ledger = openLedgerOf(file);
  if (ledger !== undefined && !ledger.closed) return ledger.query<T>(sql, params);
  if (!fs.existsSync(file)) return [];
  for (const suffix of ['', '-wal', '-shm']) checkPrivateFile(`${file}${suffix}`);
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    if (Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version) === 0) return [];
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The ledger open on `file` in this process, if any (for tests and diagnostics). */
export function openLedgerOf(file: string): Ledger | undefined {
  try {
    return open.get(resolvedPath(file))?.ledger;
  } catch {
    return undefined;
  }
}
