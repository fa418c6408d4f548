/**
 * `npm run bench`: runs the parts in order, prints the tables
 * and writes bench/results.json in the repository. Not part of the tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { runChild } from './children';
import type { DecoderResult } from './decoder';
import type { FlowResult } from './flow';
import type { JournalResult } from './journal';
import type { LedgerReadsResult } from './ledger-reads';
import type { MicroResult } from './micro';
import type { ProgressResult } from './progress';
import type { RedactResult } from './redact';
import { repoRoot, resultsFile } from './paths';
import { runLedgerStart } from './ledger-start';
import { runScale } from './scale';
import { runSidebar, sidebarTable } from './sidebar';
import { environment, goals, tables, type Results } from './report';
import { round } from './stats';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Rounds every number in the results to 4 decimals. */
function tidy(value: unknown): unknown {
  if (typeof value === 'number') return round(value, 4);
  if (Array.isArray(value)) return value.map(tidy);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)]));
  return value;
}

async function main(): Promise<void> {
  const started = Date.now();
  // node-red-node-test-helper (in the children) finds Node-RED from the working directory.
  process.chdir(repoRoot());
  const env = environment();
  log(`Benchmark on ${env.cpuModel} (${env.cores} cores), Node ${env.node}, load average ${env.loadAverage}`);
  // Parts 1 to 3 each in a fresh process; part 4 starts its own.
  log('1/4 encode and decode (package, bare floor, Adyen)');
  const encodeDecode = await runChild<MicroResult>('part-child.js', ['micro']);
  log('2/4 frame decoder');
  const decoder = await runChild<DecoderResult>('part-child.js', ['decoder']);
  log('EasyCard redaction: a reply as long as a reply may be, beside an eighth of it');
  const redact = await runChild<RedactResult>('part-child.js', ['redact']);
  log('journal: a sale with 100,000 journal entries beside an empty journal');
  const journal = await runChild<JournalResult>('part-child.js', ['journal']);
  log('ledger reads: a month\'s totals, lists and a CSV of a 500,000-payment ledger, on the reader worker');
  const ledgerReads = await runChild<LedgerReadsResult>('part-child.js', ['ledger-reads']);
  log('3/4 one sale at a time through Node-RED over a pty');
  const flow = await runChild<FlowResult>('part-child.js', ['flow']);
  log('progress: session step → progress message, through Node-RED');
  const progress = await runChild<ProgressResult>('part-child.js', ['progress']);
  log('4/4 50 terminals from one Node-RED runtime');
  const scale = await runScale(log);
  log('ledger start: 50 terminals on a ledger of 50 × 10,000 settled payments, beside an empty one');
  const ledgerStart = await runLedgerStart(log);

  log('sidebar: its data for 50 terminals and 100,000 journal entries; the 50-terminal p99 with it refreshing');
  const sidebar = await runSidebar(log);
  fs.writeFileSync(resultsFile().replace(/\.json$/, '-sidebar.json'), `${JSON.stringify(tidy(sidebar), null, 2)}\n`);
  console.log(`${sidebarTable(sidebar)}\n`);

  const figures = { encodeDecode, decoder, redact, flow, scale, journal, ledgerReads, ledgerStart, progress };
  const results: Results = {
    environment: env,
    repeats: {
      encodeDecode: `median of ${encodeDecode.rounds} rounds of ~40 ms each, cases interleaved`,
      decoder: `median of ${decoder.rounds.chunked} runs (throughput) and ${decoder.rounds.linearity} runs (1 MB, 8 MB)`,
      flow: `median of ${flow.sales} sales (${flow.rounds} rounds of ${flow.salesPerRound}, after 3 warm-up sales each)`,
      redact: `median of ${redact.rounds} interleaved runs per shape and length`,
      journal: `median of ${journal.rounds} interleaved rounds of ${journal.salesPerRound} sales per case`,
      ledgerReads: `median of ${ledgerReads.rounds} runs per case, after one warm-up; the loop's longest hold over all of them`,
      progress: `${progress.sales} sales after 10 warm-up ones; every step's delay (median, p95, max)`,
      scale: `median of ${scale.loadRounds} rounds (one terminal: ${scale.singleSales} sales; ${scale.terminals} terminals: ${scale.salesEach} sales each; empty message path: ${scale.emptyPathEach} messages a chain); memory: median of ${scale.memoryRuns} fresh processes`,
      ledgerStart: `median of ${ledgerStart.runs} fresh processes per case, the cases interleaved; RSS: median of the runs' differences`,
    },
    figures,
    goals: goals(figures),
    loadAverageAtEnd: os.loadavg().map((l) => round(l, 1)).join(' / '),
    runSeconds: Math.round((Date.now() - started) / 1000),
  };
  const file = resultsFile();
  fs.writeFileSync(file, `${JSON.stringify(tidy(results), null, 2)}\n`);
  console.log(tables(results));
  console.log(`\n${Object.values(results.goals).filter((g) => g.pass).length} of ${Object.keys(results.goals).length} goals met; ${results.runSeconds} s; load average ${env.loadAverage} at the start, ${results.loadAverageAtEnd} at the end; results in ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
