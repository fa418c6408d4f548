/**
 * The sidebar's benchmark, in a child process of its own: one Node-RED
 * runtime (node-red-node-test-helper) with the "Wonder" plugin's admin API
 * served on loopback, asked exactly what the sidebar asks at each refresh.
 *
 * - data: 50 simulated terminals whose journals hold 100,000 entries in all
 *   (2,000 each, a month of them), then a retired 100,000-entry journal no
 *   node has open: how long one refresh of the sidebar takes.
 * - load: 50 serial terminals on pty pairs (paced at 115,200 baud), all
 *   selling at once, rounds without and with the sidebar open (refreshed at
 *   its interval): the sales' p99 in both, in the same run.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import helper from 'node-red-node-test-helper';
import type { SerialTransport } from '../lib/transport/serial';
import { CLIENT_SN, PAIRING_CODE } from './fixtures';
import { BAUD, meterWrites } from './line';
import { catchNodes, connected, loadFlow, saleFlowNodes, startRuntime, stopRuntime, terminalNode, timedSale } from './node-red';
import { historyEntries, ledgerFileOf, prefillJournal } from './sidebar-journals';
import { fillLedger } from './ledger-fill';
import { median, nowMs, percentile } from './stats';

export const SIDEBAR_REFRESH_MS = 5_000;

export interface DataJob {
  mode: 'data';
  terminals: number;
  entriesEach: number;
  retiredEntries: number;
  rounds: number;
}
export interface LoadJob {
  mode: 'load';
  paths: string[];
  entriesEach: number;
  rounds: number;
  salesEach: number;
}
/** One deployed terminal whose history is `live` entries in its journal and `archived` in its archives: totals of all of it. */
export interface HistoryJob {
  mode: 'history';
  live: number;
  archived: number;
  rounds: number;
}
export type SidebarJob = DataJob | LoadJob | HistoryJob;

export interface HistoryResult {
  entries: number;
  live: number;
  /** The first ask (files read and parsed in slices), then the median of the next ones, ms. */
  firstMs: number;
  nextMedianMs: number;
  nextMaxMs: number;
  /** How long the event loop was held at once during the first ask and the next ones, ms. */
  loopHeldFirstMs: number;
  loopHeldNextMs: number;
  /** The totals' sales count (a check that all of it was counted). */
  sales: number;
}

export interface RefreshTimes {
  totalMs: number;
  terminalsMs: number;
  openMs: number;
  recentMs: number;
  totalsMs: number;
}
export interface DataResult {
  terminals: number;
  liveEntries: number;
  /** Refreshes of the sidebar: median and slowest over the rounds. */
  live: { median: RefreshTimes; maxTotalMs: number; recentCount: number; totalsRows: number };
  /** How long the runtime's event loop was held at once while the sidebar refreshed (what a payment in flight can wait), and idle. */
  loopDelay: { refreshingMaxMs: number; refreshingP99Ms: number; idleMaxMs: number };
  /** With a retired journal of retiredEntries as well: its first (cold) read, then cached. */
  retired: { entries: number; coldMs: number; warmMedianMs: number };
}
export interface LoadRound {
  quietP99: number;
  polledP99: number;
  quietP50: number;
  polledP50: number;
  refreshes: number;
  /** The refreshes' own times while the terminals sold (median and slowest), ms. */
  refreshMedianMs: number;
  refreshMaxMs: number;
  errors: number;
}

const adminModule = () => require(path.join(__dirname, '..', 'nodes', 'wonder-ecr-admin.js')) as unknown;

/** Serves the helper's admin app (where the plugin put its routes) on a loopback port. */
async function serveAdmin(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = (helper as unknown as { _httpAdmin: http.RequestListener })._httpAdmin;
  const server = http.createServer(app);
  // Longer than the ledger fills between refreshes hold this thread: the server must not drop a kept-alive socket just as fetch reuses it.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function localDay(now = new Date()): { from: string; to: string } {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** One refresh of the sidebar: its four requests one after the other, as the editor sends them (one heavy read per user at a time). */
async function refresh(url: string): Promise<RefreshTimes & { recentCount: number; totalsRows: number }> {
  const day = localDay();
  const timed = async (route: string) => {
    const t0 = nowMs();
    const res = await fetch(`${url}${route}`);
    if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as Record<string, unknown>;
    return { ms: nowMs() - t0, body };
  };
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const t0 = nowMs();
  const terminals = await timed('/wonder-ecr/terminals');
  const open = await timed(`/wonder-ecr/journal?${q({ state: 'open', limit: '200' })}`);
  const recent = await timed(`/wonder-ecr/journal?${q({ limit: '100', ...day })}`);
  const totals = await timed(`/wonder-ecr/totals?${q(day)}`);
  return {
    totalMs: nowMs() - t0,
    terminalsMs: terminals.ms,
    openMs: open.ms,
    recentMs: recent.ms,
    totalsMs: totals.ms,
    recentCount: recent.body.count as number,
    totalsRows: (totals.body.totals as unknown[]).length,
  };
}

/** The user directory startRuntime gave the helper (where the terminals' journals go). */
const userDirOf = () => (helper as unknown as { _settings: { userDir: string } })._settings.userDir;

async function data(job: DataJob): Promise<DataResult> {
  await startRuntime();
  const userDir = userDirOf();
  const now = Date.now();
  const defs = Array.from({ length: job.terminals }, (_, i) => ({ id: `s${i}`, type: 'wonder-terminal', name: `kiosk ${i}`, transport: 'simulator' }));
  for (const def of defs) prefillJournal(userDir, def, job.entriesEach, now, 1);
  await loadFlow([{ id: 'f1', type: 'tab', label: 'sidebar' }, ...defs], {}, [adminModule()]);
  await connected(defs.map((d) => d.id), 30_000);
  const admin = await serveAdmin();
  await refresh(admin.url); // warm-up
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 1_000));
  idle.disable();
  const busy = monitorEventLoopDelay({ resolution: 1 });
  busy.enable();
  const rounds: Array<RefreshTimes & { recentCount: number; totalsRows: number }> = [];
  for (let r = 0; r < job.rounds; r++) rounds.push(await refresh(admin.url));
  busy.disable();
  const m = (f: (x: RefreshTimes) => number) => median(rounds.map(f));
  // A retired terminal's payments: no deployed terminal is there.
  fillLedger(ledgerFileOf(userDir), historyEntries('serial-/dev/retired', job.retiredEntries, now));
  const cold = await refresh(admin.url);
  const warm: number[] = [];
  for (let r = 0; r < job.rounds; r++) warm.push((await refresh(admin.url)).totalMs);
  await admin.close();
  await stopRuntime();
  return {
    terminals: job.terminals,
    liveEntries: job.terminals * job.entriesEach,
    live: {
      median: { totalMs: m((x) => x.totalMs), terminalsMs: m((x) => x.terminalsMs), openMs: m((x) => x.openMs), recentMs: m((x) => x.recentMs), totalsMs: m((x) => x.totalsMs) },
      maxTotalMs: Math.max(...rounds.map((x) => x.totalMs)),
      recentCount: rounds[0]!.recentCount,
      totalsRows: rounds[0]!.totalsRows,
    },
    loopDelay: { refreshingMaxMs: busy.max / 1e6, refreshingP99Ms: busy.percentile(99) / 1e6, idleMaxMs: idle.max / 1e6 },
    retired: { entries: job.retiredEntries, coldMs: cold.totalMs, warmMedianMs: median(warm) },
  };
}

async function load(job: LoadJob): Promise<LoadRound[]> {
  await startRuntime();
  const userDir = userDirOf();
  const now = Date.now();
  const all = job.paths.map((_, i) => i);
  const defs = job.paths.map((p, i) => ({ id: `t${i}`, type: 'wonder-terminal', name: `pty ${i}`, transport: 'serial', serialPort: p, baudRate: BAUD, clientDeviceSN: CLIENT_SN }));
  for (const def of defs) prefillJournal(userDir, def, job.entriesEach, now);
  const flow = [{ id: 'f1', type: 'tab', label: 'load' }, ...defs, ...all.flatMap((i) => saleFlowNodes('f1', `t${i}`, `-${i}`)), ...catchNodes('f1')];
  await loadFlow(flow, Object.fromEntries(all.map((i) => [`t${i}`, { pairingCode: PAIRING_CODE }])), [adminModule()]);
  await connected(all.map((i) => `t${i}`), 30_000);
  for (const i of all) meterWrites(terminalNode(`t${i}`).wonder.session!.transport as SerialTransport, { baud: BAUD, precise: false });
  const admin = await serveAdmin();
  let errors = 0;
  const phase = async (polled: boolean): Promise<{ ms: number[]; refreshes: number; refreshMs: number[] }> => {
    const ms: number[] = [];
    const refreshMs: number[] = [];
    let refreshes = 0;
    let running = true;
    // The sidebar open: a refresh at once (the tab shown), then one every SIDEBAR_REFRESH_MS, one at a time.
    const poller = (async () => {
      while (polled && running) {
        const next = nowMs() + SIDEBAR_REFRESH_MS;
        refreshMs.push((await refresh(admin.url)).totalMs);
        refreshes++;
        while (running && nowMs() < next) await new Promise((r) => setTimeout(r, Math.min(50, next - nowMs())));
      }
    })();
    await Promise.all(
      all.map(async (i) => {
        for (let k = 0; k < job.salesEach; k++) {
          const r = await timedSale(`-${i}`);
          if (r.result !== 'Success') errors++;
          ms.push(r.ms);
        }
      }),
    );
    running = false;
    await poller;
    return { ms, refreshes, refreshMs };
  };
  // Warm-up, both ways (the admin API's code compiled, the journals' first reads done, as in a runtime that has been up).
  await phase(false);
  await phase(true);
  const rounds: LoadRound[] = [];
  for (let r = 0; r < job.rounds; r++) {
    errors = 0;
    // Alternating which goes first, so that drift over the run falls on both alike.
    const first = await phase(r % 2 === 1);
    const second = await phase(r % 2 === 0);
    const [quiet, polled] = r % 2 === 1 ? [second, first] : [first, second];
    rounds.push({ quietP99: percentile(quiet.ms, 99), polledP99: percentile(polled.ms, 99), quietP50: percentile(quiet.ms, 50), polledP50: percentile(polled.ms, 50), refreshes: polled.refreshes, refreshMedianMs: median(polled.refreshMs), refreshMaxMs: Math.max(...polled.refreshMs), errors });
  }
  await admin.close();
  await stopRuntime();
  return rounds;
}

async function history(job: HistoryJob): Promise<HistoryResult> {
  await startRuntime();
  const def = { id: 'h1', type: 'wonder-terminal', name: 'kiosk with history', transport: 'simulator' };
  prefillJournal(userDirOf(), def, job.live + job.archived, Date.now());
  await loadFlow([{ id: 'f1', type: 'tab', label: 'history' }, def], {}, [adminModule()]);
  await connected([def.id], 30_000);
  const admin = await serveAdmin();
  const ask = async () => {
    const t0 = nowMs();
    const res = await fetch(`${admin.url}/wonder-ecr/totals?terminal=${def.id}`);
    if (res.status !== 200) throw new Error(`totals: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { totals: Array<{ sales: { count: number } }> };
    return { ms: nowMs() - t0, sales: body.totals.reduce((n, r) => n + r.sales.count, 0) };
  };
  const held = monitorEventLoopDelay({ resolution: 1 });
  held.enable();
  const first = await ask();
  held.disable();
  const heldNext = monitorEventLoopDelay({ resolution: 1 });
  heldNext.enable();
  const next: number[] = [];
  for (let r = 0; r < job.rounds; r++) next.push((await ask()).ms);
  heldNext.disable();
  await admin.close();
  await stopRuntime();
  return {
    entries: job.live + job.archived,
    live: job.live,
    firstMs: first.ms,
    nextMedianMs: median(next),
    nextMaxMs: Math.max(...next),
    loopHeldFirstMs: held.max / 1e6,
    loopHeldNextMs: heldNext.max / 1e6,
    sales: first.sales,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as SidebarJob;
  const result = job.mode === 'data' ? await data(job) : job.mode === 'history' ? await history(job) : await load(job);
  process.send!(result, () => process.exit(0));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
