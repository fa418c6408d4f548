import * as path from 'node:path';
import { LEDGER_FILE_NAME, type JournalEntry } from '../lib/ledger';
import { terminalIdentity } from '../lib/session';
import { fillLedger } from './ledger-fill';

/** How far back the prefilled entries reach (days): about one in 30 is today's. */
const SPAN_DAYS = 30;

/**
 * `count` settled payments of one terminal, newest first, spread evenly over
 * the last SPAN_DAYS days (a sale, a decline every tenth, a refund every
 * twentieth); `open` more that are open (outcome unknown), days old.
 */
export function historyEntries(terminal: string, count: number, now: number, open = 0): JournalEntry[] {
  const out: JournalEntry[] = [];
  const step = (SPAN_DAYS * 86_400_000) / count;
  for (let k = count - 1; k >= 0; k--) {
    const openedAt = new Date(now - k * step - 1_000).toISOString();
    const closedAt = new Date(now - k * step).toISOString();
    const refund = k % 20 === 7;
    const declined = k % 10 === 3;
    const amount = (((k * 37) % 50_000) + 1) / 100;
    out.push({
      referenceID: `${terminal}-R${k}`,
      action: refund ? 'Refund' : 'Sale',
      amount: amount.toFixed(2),
      currency: k % 50 === 11 ? 'USD' : 'HKD',
      ...(refund ? { orgReferenceID: `${terminal}-R${k + 1}` } : {}),
      terminal,
      requestID: `${terminal}-Q${k}`,
      state: declined ? 'Failed' : 'Success',
      openedAt,
      closedAt,
      outcome: { status: declined ? 'Failed' : 'Success', transactionStatus: declined ? 'Failed' : 'Success', verdict: declined ? 'declined' : 'approved', reason: declined ? 'declined' : 'approved', rrn: String(1e18 + k) },
    });
  }
  for (let k = 0; k < open; k++) {
    out.push({ referenceID: `${terminal}-OPEN${k}`, action: 'Sale', amount: '9.99', currency: 'HKD', terminal, requestID: `${terminal}-O${k}`, state: 'open', openedAt: new Date(now - 3 * 86_400_000).toISOString() });
  }
  return out;
}

/** The ledger file of a Node-RED user directory. */
export function ledgerFileOf(userDir: string): string {
  return path.join(userDir, 'wonder-ecr', LEDGER_FILE_NAME);
}

/** Writes the payments of a deployed terminal of this definition into the user directory's ledger, before the flow is deployed. */
export function prefillJournal(userDir: string, def: { id: string; transport: string; serialPort?: string }, count: number, now: number, open = 0): void {
  const identity = terminalIdentity(def as never, def.id);
  fillLedger(ledgerFileOf(userDir), historyEntries(identity, count, now, open));
}
