import type { JournalEntry } from '../../lib/ledger';
import type { Terminal } from '../../lib/terminal';

/** What one "check now" learnt about one payment. */
export interface CheckResult {
  referenceID: string;
  action: string;
  /** The journal's state of it after the check: open (still unknown), Success, Failed, NotSent. */
  state: string;
  /** Whether this check settled it (it was open before). */
  settled: boolean;
  /** The looked-up transaction's own state (Success, Failed, Pending, Voided, Unknown), when the terminal answered. */
  result?: string;
  /** Why it stays unknown: the error's code (E_PENDING, E_TIMEOUT, E_TRANSPORT, …). */
  error?: string;
}

/** A check that cannot start: the HTTP status and the code to answer. */
export class CheckRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'E_UNKNOWN';
}

/** The journal entry of this reference, an open one first: its own Sale or Refund, or a Void of it. */
function entryFor(handle: Terminal, referenceID: string): JournalEntry | undefined {
  const own = handle.payments?.byReference(referenceID);
  const voided = handle.payments?.get('Void', referenceID);
  return [own, voided].find((e) => e?.state === 'open') ?? own ?? voided;
}

function after(handle: Terminal, entry: JournalEntry): string {
  return handle.payments?.get(entry.action, entry.referenceID)?.state ?? entry.state;
}

/**
 * Asks the terminal about one payment of its journal (TransactionStatus on
 * its reference): a lookup that describes it settles it in the journal at
 * once. A payment already settled is answered from the journal, not asked.
 */
export async function checkOne(handle: Terminal, referenceID: string): Promise<CheckResult> {
  const entry = entryFor(handle, referenceID);
  if (entry === undefined) throw new CheckRefused(404, 'E_NOT_FOUND', `no payment ${referenceID} in this terminal's journal`);
  if (entry.state !== 'open') return { referenceID, action: entry.action, state: entry.state, settled: false };
  try {
    const outcome = await handle.request('TransactionStatus', { targetReferenceID: referenceID });
    const state = after(handle, entry);
    return { referenceID, action: entry.action, state, settled: state !== 'open', ...(outcome.result !== undefined ? { result: String(outcome.result) } : {}) };
  } catch (err) {
    return { referenceID, action: entry.action, state: after(handle, entry), settled: false, error: codeOf(err) };
  }
}

/** Asks about every open payment of the terminal's journal (the recovery a reconnect runs). */
export async function checkAll(handle: Terminal): Promise<CheckResult[]> {
  const recoveries = await handle.recover();
  return recoveries.map(({ entry, outcome, error }) => {
    const state = after(handle, entry);
    return {
      referenceID: entry.referenceID,
      action: entry.action,
      state,
      settled: state !== 'open',
      ...(outcome?.result !== undefined ? { result: String(outcome.result) } : {}),
      ...(error !== undefined ? { error: codeOf(error) } : {}),
    };
  });
}

/** One check at a time per terminal: a second press while one runs is told so (409). */
export class CheckGuard {
  private readonly running = new Set<string>();

  async run<T>(terminal: string, check: () => Promise<T>): Promise<T> {
    if (this.running.has(terminal)) throw new CheckRefused(409, 'E_CHECK_RUNNING', 'a check of this terminal is already running');
    this.running.add(terminal);
    try {
      return await check();
    } finally {
      this.running.delete(terminal);
    }
  }
}
