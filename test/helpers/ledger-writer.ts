/**
 * A live ledger writer in its own process, as a gateway writes: `node
 * ledger-writer.js FILE COUNT` records COUNT sales (each opened, then settled,
 * each change its own transaction, as group commits come), and prints
 * "progress N" after every 100 and "done" at the end.
 */
import { insertEntries, openFixtureLedger } from './ledger-fixture';

function main(): void {
  const [file, countText] = process.argv.slice(2);
  const db = openFixtureLedger(file!);
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    const e = { referenceID: `W${i}`, action: 'Sale' as const, amount: '1.01', currency: 'TWD', terminal: 'live', requestID: `w${i}`, state: 'open' as const, openedAt: new Date().toISOString() };
    insertEntries(db, [e]);
    insertEntries(db, [{ ...e, state: 'Success', closedAt: new Date().toISOString(), outcome: { verdict: 'approved', reason: 'approved' } }]);
    if ((i + 1) % 100 === 0) process.stdout.write(`progress ${i + 1}\n`);
  }
  db.close();
  process.stdout.write('done\n');
}

main();
