import { journalKey, type JournalAction, type JournalEntry, type JournalOutcome, type JournalState, type LookupRecord, type TerminalFilter } from '../../lib/ledger';
import type { PaymentStore } from '../../lib/session';

/** A write the store could not commit (the simulation's disk full). */
export class StoreWriteError extends Error {
  constructor(what: string) {
    super(`the simulated ledger could not be written (disk full): ${what}`);
    this.name = 'StoreWriteError';
  }
}

export interface MemoryStoreOptions {
  /** Decides whether a write fails (disk full); asked once per write, in the order written. */
  fails?: (op: 'begin' | 'outcome' | 'delivered' | 'lookup', key: string) => boolean;
  /** Waits as a commit takes (on the simulation's clock); default none. */
  commit?: () => Promise<void>;
  /** Told around each commit (`before`: not durable yet; `after`: durable, its caller not told yet): where the simulation may crash the process. */
  around?: (op: 'begin' | 'outcome' | 'delivered' | 'lookup', key: string, phase: 'before' | 'after') => void;
  /** A planted bug: the store's own, never the product's (for the tests that prove the simulation can fail). */
  plant?: StorePlant;
}

/** Bugs a test may plant in the store, to show the simulation reports them. */
export type StorePlant = 'forget-outcome-on-crash' | 'lose-open-on-crash' | 'drop-outcome-write';

/**
 * The ledger as the session sees it (PaymentStore), in memory: reads see
 * every write at once; a write's promise resolves once it is "committed",
 * and only committed state survives crash(). A write that fails (disk full)
 * rejects: a begin leaves nothing behind, an outcome is kept in memory and
 * committed with the next write that succeeds (as lib/ledger's Ledger does).
 */
export class MemoryStore implements PaymentStore {
  /** What survives a crash. */
  readonly durable = new Map<string, JournalEntry>();
  readonly lookups: LookupRecord[] = [];
  private visible = new Map<string, JournalEntry>();
  private readonly behind = new Set<string>();
  private generation = 0;
  /** Writes that failed, by kind. */
  readonly failures: Record<string, number> = {};

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  /** The process died: what was not committed is gone; writes still in flight never commit. */
  crash(): void {
    this.generation++;
    this.behind.clear();
    if (this.options.plant === 'forget-outcome-on-crash') {
      for (const [key, e] of this.durable) if (e.state === 'Success' || e.state === 'Failed') this.durable.set(key, { ...e, state: 'open' });
    }
    if (this.options.plant === 'lose-open-on-crash') {
      for (const [key, e] of this.durable) if (e.state === 'open') this.durable.delete(key);
    }
    this.visible = new Map([...this.durable].map(([k, e]) => [k, { ...e }]));
  }

  private async write(op: 'begin' | 'outcome' | 'delivered' | 'lookup', key: string, apply: () => void): Promise<void> {
    const generation = this.generation;
    const failed = this.options.fails?.(op, key) === true;
    if (this.options.commit !== undefined) await this.options.commit();
    if (generation !== this.generation) return new Promise<void>(() => undefined);
    this.options.around?.(op, key, 'before');
    if (generation !== this.generation) return new Promise<void>(() => undefined);
    if (failed) {
      this.failures[op] = (this.failures[op] ?? 0) + 1;
      throw new StoreWriteError(`${op} ${key}`);
    }
    // What a failed write kept in memory is committed first.
    for (const k of this.behind) {
      const e = this.visible.get(k);
      if (e !== undefined) this.durable.set(k, { ...e });
    }
    this.behind.clear();
    apply();
    this.options.around?.(op, key, 'after');
    if (generation !== this.generation) return new Promise<void>(() => undefined);
  }

  get(action: JournalAction, referenceID: string): JournalEntry | undefined {
    return this.visible.get(journalKey(action, referenceID));
  }

  byReference(referenceID: string): JournalEntry | undefined {
    return this.visible.get(referenceID);
  }

  refundsOf(saleReferenceID: string): JournalEntry[] {
    return [...this.visible.values()].filter((e) => e.action === 'Refund' && e.orgReferenceID === saleReferenceID);
  }

  openEntries(filter?: TerminalFilter | string): JournalEntry[] {
    const f: TerminalFilter = typeof filter === 'string' ? { terminal: filter } : (filter ?? {});
    const all = f.terminal === undefined && f.deviceSn === undefined;
    return [...this.visible.values()]
      .filter((e) => e.state === 'open' && (all || (f.terminal !== undefined && e.terminal === f.terminal) || (f.deviceSn !== undefined && e.deviceSn === f.deviceSn)))
      .sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  }

  async begin(entry: Omit<JournalEntry, 'state' | 'openedAt'> & { openedAt?: string }): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, state: 'open', openedAt: entry.openedAt ?? new Date(0).toISOString() };
    const key = journalKey(full.action, full.referenceID);
    const before = this.visible.get(key);
    this.visible.set(key, full);
    try {
      await this.write('begin', key, () => this.durable.set(key, { ...full }));
    } catch (err) {
      if (this.visible.get(key) === full) {
        if (before === undefined) this.visible.delete(key);
        else this.visible.set(key, before);
      }
      throw err;
    }
    return full;
  }

  async recordOutcome(action: JournalAction, referenceID: string, state: Exclude<JournalState, 'open'>, outcome?: JournalOutcome): Promise<JournalEntry | undefined> {
    const key = journalKey(action, referenceID);
    const current = this.visible.get(key);
    if (current === undefined) return undefined;
    const next: JournalEntry = { ...current, state };
    if (outcome !== undefined) next.outcome = outcome;
    else delete next.outcome;
    this.visible.set(key, next);
    try {
      await this.write('outcome', key, () => {
        if (this.options.plant !== 'drop-outcome-write') this.durable.set(key, { ...next });
      });
    } catch (err) {
      if (this.visible.get(key) === next) this.behind.add(key);
      throw err;
    }
    return next;
  }

  async markDelivered(action: JournalAction, referenceID: string): Promise<void> {
    const key = journalKey(action, referenceID);
    await this.write('delivered', key, () => {
      for (const map of [this.durable, this.visible]) {
        const e = map.get(key);
        if (e !== undefined && e.deliveredAt === undefined) map.set(key, { ...e, deliveredAt: 'delivered' });
      }
    });
  }

  async recordLookup(l: LookupRecord): Promise<void> {
    await this.write('lookup', journalKey(l.action, l.referenceID), () => this.lookups.push(l));
  }

  /** Every payment, as committed. */
  entries(): JournalEntry[] {
    return [...this.durable.values()];
  }
}

/** One process's use of the store: once the process is dead, its writes never happen (nor resolve). */
export function processView(store: MemoryStore, alive: () => boolean): PaymentStore {
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
  return {
    get: (action, referenceID) => store.get(action, referenceID),
    byReference: (referenceID) => store.byReference(referenceID),
    refundsOf: (ref) => store.refundsOf(ref),
    openEntries: (filter) => store.openEntries(filter),
    begin: (entry) => (alive() ? store.begin(entry) : never()),
    recordOutcome: (action, referenceID, state, outcome) => (alive() ? store.recordOutcome(action, referenceID, state, outcome) : never()),
    markDelivered: (action, referenceID) => (alive() ? store.markDelivered(action, referenceID) : never()),
    recordLookup: (l) => (alive() ? store.recordLookup(l) : never()),
  };
}
