/**
 * A live journal writer in its own process, as a Node-RED terminal node
 * writes: `node journal-writer.js FILE COUNT MAXSETTLED` records COUNT sales
 * (begin, then outcome), compacting as it goes, and prints "progress N" after
 * every 100 and "done" at the end.
 */
import { Journal } from '../../lib/session';

async function main(): Promise<void> {
  const [file, countText, maxText] = process.argv.slice(2);
  const journal = new Journal(file!, { maxSettled: Number(maxText ?? 10_000) });
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    await journal.begin({ referenceID: `W${i}`, action: 'Sale', amount: '1.01', currency: 'TWD', terminal: 'live', requestID: `w${i}` });
    await journal.recordOutcome('Sale', `W${i}`, 'Success', { verdict: 'approved', reason: 'approved' });
    if ((i + 1) % 100 === 0) process.stdout.write(`progress ${i + 1}\n`);
  }
  await journal.close();
  process.stdout.write('done\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
