/**
 * Runs one part of the benchmark in a fresh process (so no part inherits
 * another's heap or JIT state) and sends its result back over IPC.
 *
 * Usage: node part-child.js micro|decoder|redact|journal|ledger-reads|flow|progress
 */
async function run(part: string | undefined): Promise<unknown> {
  switch (part) {
    case 'micro':
      return (await import('./micro')).runMicro();
    case 'decoder':
      return (await import('./decoder')).runDecoder();
    case 'redact':
      return (await import('./redact')).runRedact();
    case 'journal':
      return (await import('./journal')).runJournal();
    case 'ledger-reads':
      return (await import('./ledger-reads')).runLedgerReads();
    case 'flow': {
      const result = await (await import('./flow')).runFlow();
      await (await import('./node-red')).stopRuntime();
      return result;
    }
    case 'progress': {
      const result = await (await import('./progress')).runProgress();
      await (await import('./node-red')).stopRuntime();
      return result;
    }
    default:
      throw new Error(`unknown part ${part}`);
  }
}

run(process.argv[2]).then(
  (result) => process.send!(result, () => process.exit(0)),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
