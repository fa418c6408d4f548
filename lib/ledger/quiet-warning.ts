/**
 * On Node 22, node:sqlite says once per thread that it is experimental. Loaded
 * before node:sqlite by the ledger's writer and reader threads (the main thread
 * has said it once for the process) and by the command line (bin/wonder-ecr.js),
 * whose stderr is for people.
 */
const emit = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/^SQLite is an experimental feature/.test(text)) return;
  (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
