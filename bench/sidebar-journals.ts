import * as path from 'node:path';
import { terminalIdentity } from '../lib/session';
import { insertEntries, openFixtureLedger, type FixtureEntry } from '../test/helpers/ledger-fixture';

/** How far back the prefilled payments reach (days): about one in 30 is today's. */
const SPAN_DAYS = 30;

/**
 * `count` settled payments of one terminal, newest first, spread evenly over
 * the last SPAN_DAYS days (a sale, a decline every tenth, a refund every
 * twentieth), as the ledger keeps them; `open` more that are open (outcome
 * unknown), days old.
 */
export function historyEntries(terminal: string, count: number, now: number, open = 0, configNode?: string): FixtureEntry[] {
  const out: FixtureEntry[] = [];
  const step = (SPAN_DAYS * 86_400_000) / count;
  const own = configNode === undefined ? {} : { configNode };
  for (let k = count - 1; k >= 0; k--) {
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
      ...own,
      requestID: `${terminal}-Q${k}`,
      state: declined ? 'Failed' : 'Success',
      openedAt: new Date(now - k * step - 1_000).toISOString(),
      closedAt: new Date(now - k * step).toISOString(),
      outcome: { status: declined ? 'Failed' : 'Success', transactionStatus: declined ? 'Failed' : 'Success', verdict: declined ? 'declined' : 'approved', reason: declined ? 'declined' : 'approved', rrn: String(1e18 + k) },
    });
  }
  for (let k = 0; k < open; k++) {
    out.push({ referenceID: `${terminal}-OPEN${k}`, action: 'Sale', amount: '9.99', currency: 'HKD', terminal, ...own, requestID: `${terminal}-O${k}`, state: 'open', openedAt: new Date(now - 3 * 86_400_000).toISOString() });
  }
  return out;
}

/** Writes payments into the ledger of a user directory (`<userDir>/wonder-ecr/ledger.db`), before the flow is deployed. */
export function prefillLedger(userDir: string, entries: FixtureEntry[]): void {
  const db = openFixtureLedger(path.join(userDir, 'wonder-ecr', 'ledger.db'));
  try {
    insertEntries(db, entries);
  } finally {
    db.close();
  }
}

/** The payments of a deployed terminal of this definition (its identity, its config node), in the ledger, before the flow is deployed. */
export function prefillJournal(userDir: string, def: { id: string; transport: string; serialPort?: string }, count: number, now: number, open = 0): void {
  prefillLedger(userDir, historyEntries(terminalIdentity(def as never, def.id), count, now, open, def.id));
}

/** A deployed terminal's history of `live + archived` payments (one ledger keeps them all: no archives), before the flow is deployed. */
export function prefillHistory(userDir: string, def: { id: string; transport: string }, live: number, archived: number, now: number): void {
  prefillJournal(userDir, def, live + archived, now);
}
