import * as fs from 'node:fs';
import * as path from 'node:path';
import { journalArchiveFile, journalFileName, terminalIdentity } from '../lib/session';

/** How far back the prefilled entries reach (days): about one in 30 is today's. */
const SPAN_DAYS = 30;

/**
 * JSON lines of `count` settled payments of one terminal, newest first,
 * spread evenly over the last SPAN_DAYS days (a sale, a decline every tenth,
 * a refund every twentieth), as the Journal writes them; `open` more that
 * are open (outcome unknown), days old.
 */
export function journalLines(terminal: string, count: number, now: number, open = 0): string {
  const out: string[] = [];
  const step = (SPAN_DAYS * 86_400_000) / count;
  for (let k = count - 1; k >= 0; k--) {
    const openedAt = new Date(now - k * step - 1_000).toISOString();
    const closedAt = new Date(now - k * step).toISOString();
    const refund = k % 20 === 7;
    const declined = k % 10 === 3;
    const amount = (((k * 37) % 50_000) + 1) / 100;
    out.push(
      JSON.stringify({
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
      }),
    );
  }
  for (let k = 0; k < open; k++) {
    out.push(JSON.stringify({ referenceID: `${terminal}-OPEN${k}`, action: 'Sale', amount: '9.99', currency: 'HKD', terminal, requestID: `${terminal}-O${k}`, state: 'open', openedAt: new Date(now - 3 * 86_400_000).toISOString() }));
  }
  return `${out.join('\n')}\n`;
}

/** Writes the journal a deployed terminal of this definition will open, in the user directory, before the flow is deployed. */
export function prefillJournal(userDir: string, def: { id: string; transport: string; serialPort?: string }, count: number, now: number, open = 0): void {
  const identity = terminalIdentity(def as never, def.id);
  const file = path.join(userDir, 'wonder-ecr', journalFileName(identity));
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, journalLines(identity, count, now, open), { mode: 0o600 });
}

/**
 * A deployed terminal's history as compaction leaves it: its newest `live`
 * entries in its journal, the `archived` older ones in its monthly
 * archives (as journalArchiveFile names them), before the flow is deployed.
 */
export function prefillHistory(userDir: string, def: { id: string; transport: string }, live: number, archived: number, now: number): void {
  const identity = terminalIdentity(def as never, def.id);
  const file = path.join(userDir, 'wonder-ecr', journalFileName(identity));
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const lines = journalLines(identity, live + archived, now).split('\n').slice(0, -1);
  const months = new Map<string, string[]>();
  for (const line of lines.slice(0, archived)) {
    const month = (JSON.parse(line) as { openedAt: string }).openedAt.slice(0, 7);
    let list = months.get(month);
    if (list === undefined) months.set(month, (list = []));
    list.push(line);
  }
  for (const [month, monthLines] of months) fs.writeFileSync(journalArchiveFile(file, month), `${monthLines.join('\n')}\n`, { mode: 0o600 });
  fs.writeFileSync(file, `${lines.slice(archived).join('\n')}\n`, { mode: 0o600 });
}
