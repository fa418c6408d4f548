/**
 * The "Wonder" sidebar's figures (issue 14's Measure): a refresh of its data
 * for 50 terminals and a 100,000-entry journal in under 1 s, and the
 * 50-terminal p99 with the sidebar open and refreshing within 5 % of the p99
 * without it (both in the same run). `node dist/bench/sidebar.js` alone, or
 * as a part of `npm run bench`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runChild, startChild, stopChild } from './children';
import { BAUD } from './line';
import { repoRoot } from './paths';
import { SIDEBAR_REFRESH_MS, type DataResult, type HistoryResult, type LoadRound, type SidebarJob } from './sidebar-child';
import { median, round } from './stats';

const TERMINALS = 50;
const ENTRIES = 100_000;
const DATA_ROUNDS = 20;
const LOAD_ROUNDS = 6;
const SALES_EACH = 60;
const HISTORY_LIVE = 10_000;
const HISTORY_ARCHIVED = 90_000;

export interface SidebarResult {
  data: DataResult;
  /** Totals of one terminal's whole history (10,000 entries live, 90,000 archived). */
  history: HistoryResult;
  /** The machine's load average (1 min) before and after: other work on it moves the p99s. */
  loadAverage: { before: number; after: number };
  load: { rounds: LoadRound[]; quietP99Ms: number; polledP99Ms: number; p99Ratio: number; refreshMs: number; salesEach: number; errors: number };
  goals: Record<string, { figure: number; target: number; unit: string; pass: boolean }>;
}

function child<T>(job: SidebarJob): Promise<T> {
  return runChild<T>('sidebar-child.js', [], { env: { BENCH_JOB: JSON.stringify(job) }, timeoutMs: 600_000 });
}

export async function runSidebar(log: (line: string) => void = () => undefined): Promise<SidebarResult> {
  const before = os.loadavg()[0]!;
  log(`  sidebar data: ${TERMINALS} terminals, ${ENTRIES.toLocaleString('en')} journal entries`);
  const data = await child<DataResult>({ mode: 'data', terminals: TERMINALS, entriesEach: ENTRIES / TERMINALS, retiredEntries: ENTRIES, rounds: DATA_ROUNDS });
  log(`  totals of a history of ${(HISTORY_LIVE + HISTORY_ARCHIVED).toLocaleString('en')} entries (${HISTORY_LIVE.toLocaleString('en')} live, the rest archived)`);
  const history = await child<HistoryResult>({ mode: 'history', live: HISTORY_LIVE, archived: HISTORY_ARCHIVED, rounds: DATA_ROUNDS });
  log(`  ${TERMINALS} terminals selling, without and with the sidebar refreshing every ${SIDEBAR_REFRESH_MS / 1000} s`);
  const { child: lines, message } = await startChild<{ paths: string[] }>('line-child.js', [String(TERMINALS), String(BAUD)]);
  let rounds: LoadRound[];
  try {
    rounds = await child<LoadRound[]>({ mode: 'load', paths: message.paths, entriesEach: ENTRIES / TERMINALS, rounds: LOAD_ROUNDS, salesEach: SALES_EACH });
  } finally {
    await stopChild(lines);
  }
  const quiet = median(rounds.map((r) => r.quietP99));
  const polled = median(rounds.map((r) => r.polledP99));
  const ratio = median(rounds.map((r) => r.polledP99 / r.quietP99));
  const goal = (figure: number, target: number, unit: string) => ({ figure: round(figure, 3), target, unit, pass: figure <= target });
  return {
    loadAverage: { before, after: os.loadavg()[0]! },
    data,
    history,
    load: { rounds, quietP99Ms: quiet, polledP99Ms: polled, p99Ratio: ratio, refreshMs: SIDEBAR_REFRESH_MS, salesEach: SALES_EACH, errors: rounds.reduce((n, r) => n + r.errors, 0) },
    goals: {
      sidebarRefresh50Terminals100kMs: goal(data.live.median.totalMs, 1000, 'ms'),
      historyTotals100kMs: goal(history.nextMedianMs, 200, 'ms'),
      p99WithSidebarRatio: goal(ratio, 1.05, 'x'),
    },
  };
}

export function sidebarTable(r: SidebarResult): string {
  const m = r.data.live.median;
  return [
    `Sidebar (${r.data.terminals} terminals, ${r.data.liveEntries.toLocaleString('en')} live journal entries; median of ${DATA_ROUNDS} refreshes)`,
    `  refresh ${round(m.totalMs, 1)} ms (slowest ${round(r.data.live.maxTotalMs, 1)}): terminals ${round(m.terminalsMs, 1)}, open ${round(m.openMs, 1)}, today's payments ${round(m.recentMs, 1)} (${r.data.live.recentCount} matched), today's totals ${round(m.totalsMs, 1)} (${r.data.live.totalsRows} rows)`,
    `  event loop held at most ${round(r.data.loopDelay.refreshingMaxMs, 1)} ms at once while refreshing (p99 ${round(r.data.loopDelay.refreshingP99Ms, 1)}; idle: at most ${round(r.data.loopDelay.idleMaxMs, 1)} ms)`,
    `  + a retired ${r.data.retired.entries.toLocaleString('en')}-entry journal no node has open (${(r.data.liveEntries + r.data.retired.entries).toLocaleString('en')} entries in all): first refresh ${round(r.data.retired.coldMs, 1)} ms, then ${round(r.data.retired.warmMedianMs, 1)} ms`,
    `  totals of one terminal's ${r.history.entries.toLocaleString('en')}-entry history (${r.history.live.toLocaleString('en')} live, the rest in archives; ${r.history.sales.toLocaleString('en')} sales counted): first ask ${round(r.history.firstMs, 1)} ms (event loop held at most ${round(r.history.loopHeldFirstMs, 1)} ms), then ${round(r.history.nextMedianMs, 1)} ms (slowest ${round(r.history.nextMaxMs, 1)}; held at most ${round(r.history.loopHeldNextMs, 1)} ms)`,
    `  ${r.data.terminals} terminals selling (${r.load.salesEach} sales each, paced): p99 ${round(r.load.quietP99Ms, 1)} ms without, ${round(r.load.polledP99Ms, 1)} ms with the sidebar refreshing every ${r.load.refreshMs / 1000} s; ratio ${round(r.load.p99Ratio, 3)}; a refresh took ${round(median(r.load.rounds.map((x) => x.refreshMedianMs)), 1)} ms (slowest ${round(Math.max(...r.load.rounds.map((x) => x.refreshMaxMs)), 1)}) (median of ${r.load.rounds.length} rounds; ${r.load.errors} errors; machine load average ${round(r.loadAverage.before, 1)} → ${round(r.loadAverage.after, 1)} on ${os.availableParallelism()} cores)`,
    ...Object.entries(r.goals).map(([k, g]) => `  ${g.pass ? 'pass' : 'FAIL'} ${k}: ${g.figure} ${g.unit} (target ≤ ${g.target})`),
  ].join('\n');
}

if (require.main === module) {
  process.chdir(repoRoot());
  runSidebar((l) => process.stderr.write(`${l}\n`)).then(
    (r) => {
      const file = path.join(repoRoot(), 'bench', 'results-sidebar.json');
      fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
      console.log(sidebarTable(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
