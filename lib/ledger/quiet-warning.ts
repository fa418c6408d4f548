/**
 * Loaded by the writer thread before node:sqlite: on Node 22 node:sqlite says
 * once per thread that it is experimental. The main thread says it (once per
 * process); the writer thread does not say it again.
 */
const emit = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/^SQLite is an experimental feature/.test(text)) return;
  (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
