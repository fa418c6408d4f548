/**
 * A live ledger writer in its own process, as a Node-RED terminal node
 * writes: `node ledger-writer.js FILE COUNT` records COUNT sales (begin, then
 * outcome) and prints "progress N" after every 100 and "done" at the end.
 */
import { openLedger } from '../../lib/ledger';

async function main(): Promise<void> {
  const [file, countText] = process.argv.slice(2);
  const ledger = openLedger(file!);
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    await ledger.begin({ referenceID: `W${i}`, action: 'Sale', amount: '1.01', currency: 'TWD', terminal: 'live', requestID: `w${i}` });
    await ledger.recordOutcome('Sale', `W${i}`, 'Success', { verdict: 'approved', reason: 'approved' });
    if ((i + 1) % 100 === 0) process.stdout.write(`progress ${i + 1}\n`);
  }
  await ledger.close();
  process.stdout.write('done\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
