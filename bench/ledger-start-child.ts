/**
 * The ledger's start (issue 22), in a child process of its own (run with
 * --expose-gc). The job comes in BENCH_JOB (JSON); the result goes back over
 * IPC.
 *
 * - fill: writes the ledger files the cases start on, with direct SQL: one
 *   holding `each` settled payments of every serial terminal on `paths`
 *   (under the name the terminal config node gives them), and one with the
 *   schema and no payments.
 * - start: one Node-RED runtime (node-red-node-test-helper, spies off) whose
 *   user directory holds a copy of `ledger` (synced to disk); a flow of one inject node is
 *   deployed and removed first (the runtime's own first deploy), then the
 *   flow of one wonder-terminal config node per line is deployed: the time
 *   from that deploy to every terminal connected, the event loop's longest
 *   hold meanwhile, and the process's memory after GC once they are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import helper from 'node-red-node-test-helper';
import { openLedgerOf } from '../lib/ledger';
import { terminalIdentity } from '../lib/session';
import { BAUD, sleep } from './line';
import { CLIENT_SN, PAIRING_CODE } from './fixtures';
import { fillLedger } from './ledger-fill';
import { settledMemory } from './memory';
import { loadFlow, startRuntime, stopRuntime, terminalNode } from './node-red';
import { historyEntries, ledgerFileOf } from './sidebar-journals';
import { nowMs } from './stats';

export interface FillJob {
  mode: 'fill';
  paths: string[];
  each: number;
  fullFile: string;
  emptyFile: string;
}
export interface StartJob {
  mode: 'start';
  paths: string[];
  /** The ledger file copied into the runtime's user directory before the deploy. */
  ledger: string;
}
export type LedgerStartJob = FillJob | StartJob;

export interface FillResult {
  payments: number;
  ms: number;
  bytes: number;
}
export interface StartSample {
  /** Deploy of the terminals' flow → every terminal connected, ms. */
  startMs: number;
  /** The longest the event loop was held at once during that start, ms. */
  loopHeldMs: number;
  rss: number;
  heapUsed: number;
  external: number;
  /** Payments in the ledger the runtime opened (a check that the case is what it says). */
  payments: number;
}

function terminalDef(i: number, serialPort: string): { id: string; type: string; name: string; transport: 'serial'; serialPort: string; baudRate: number; clientDeviceSN: string } {
  return { id: `t${i}`, type: 'wonder-terminal', name: `pty ${i}`, transport: 'serial', serialPort, baudRate: BAUD, clientDeviceSN: CLIENT_SN };
}

function fill(job: FillJob): FillResult {
  const t0 = nowMs();
  const now = Date.now();
  let payments = 0;
  for (const [i, p] of job.paths.entries()) {
    const def = terminalDef(i, p);
    payments += fillLedger(job.fullFile, historyEntries(terminalIdentity(def, def.id), job.each, now));
  }
  fillLedger(job.emptyFile, []);
  return { payments, ms: nowMs() - t0, bytes: fs.statSync(job.fullFile).size };
}

/** Waits until every listed terminal is connected, looking every 2 ms. */
async function allConnected(ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    if (ids.every((id) => terminalNode(id).wonder.state === 'connected')) return;
    if (nowMs() > deadline) throw new Error(`terminals not connected within ${timeoutMs} ms`);
    await sleep(2);
  }
}

async function start(job: StartJob): Promise<StartSample> {
  await startRuntime();
  const userDir = (helper as unknown as { _settings: { userDir: string } })._settings.userDir;
  const file = ledgerFileOf(userDir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.copyFileSync(job.ledger, file);
  fs.chmodSync(file, 0o600);
  // On disk before the deploy, as a gateway's ledger is when it starts: the copy's writeback is not the start's to wait for.
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  // The runtime's own first deploy (flows engine, node registry), which no ledger changes.
  await loadFlow([{ id: 'f0', type: 'tab', label: 'warm-up' }, { id: 'in', type: 'inject', z: 'f0', wires: [] }], {});
  await helper.unload();
  const ids = job.paths.map((_, i) => `t${i}`);
  const held = monitorEventLoopDelay({ resolution: 1 });
  held.enable();
  const t0 = nowMs();
  await loadFlow([{ id: 'f1', type: 'tab', label: 'gateway' }, ...job.paths.map((p, i) => terminalDef(i, p))], Object.fromEntries(ids.map((id) => [id, { pairingCode: PAIRING_CODE }])));
  await allConnected(ids, 60_000);
  const startMs = nowMs() - t0;
  held.disable();
  const memory = await settledMemory();
  const ledger = openLedgerOf(file);
  const payments = ledger === undefined ? -1 : ledger.query<{ n: number }>('SELECT count(*) AS n FROM payments')[0]!.n;
  await stopRuntime();
  return { startMs, loopHeldMs: held.max / 1e6, ...memory, payments: Number(payments) };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as LedgerStartJob;
  const result = job.mode === 'fill' ? fill(job) : await start(job);
  process.send!(result, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
