/**
 * Part 4, in a child process of its own (run with --expose-gc): one Node-RED
 * runtime driving many serial terminals. The job comes in BENCH_JOB (JSON);
 * the result goes back over IPC.
 *
 * - memory: GC'd memory with 1 idle terminal config node, then with 1 + N;
 *   the difference divided by N.
 * - load: inject → wonder-sale → output per terminal; one terminal alone,
 *   then all N at once, each doing its sales one after another.
 * - bare: the same with the bare client (no Node-RED, no package) on the
 *   same lines: what the lines, the simulators and the machine cost alone.
 * - empty-path: Node-RED's own message path with no work, driven as the
 *   load drives its sales: inject → function (`return msg;`) → helper, one
 *   chain per terminal, each chain's messages one after another.
 */
import type { SerialTransport } from '../lib/transport/serial';
import { CLIENT_SN, PAIRING_CODE } from './fixtures';
import { BAUD, meterWrites } from './line';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BareClient } from './bare-client';
import { settledMemory } from './memory';
import { catchNodes, connected, loadFlow, SALE_PAYLOAD, saleFlowNodes, startRuntime, stopRuntime, terminalNode, timedSale, type SaleResult } from './node-red';
import { coreNode } from '../test/helpers/node-red-install';
import { nowMs, percentile } from './stats';

export interface MemoryJob {
  mode: 'memory';
  paths: string[];
}
export interface LoadJob {
  /**
   * load: through Node-RED; bare: the bare client on the same lines, no Node-RED and no package; durable-bare: that with two O_DSYNC appends per sale,
   * one file per terminal; empty-path: inject → function → helper per line, no terminal (the lines are only counted).
   */
  mode: 'load' | 'bare' | 'durable-bare' | 'empty-path';
  paths: string[];
  /** Hold the ECR's writes for their wire time at this baud rate (0: no pacing). */
  paceBaud: number;
  rounds: number;
  singleSales: number;
  salesEach: number;
}
export type Job = MemoryJob | LoadJob;

export interface MemorySample {
  terminals: number;
  heapUsed: number;
  external: number;
  rss: number;
}
export interface LoadRound {
  singleP50: number;
  singleP99: number;
  manyP50: number;
  manyP99: number;
  salesPerSecond: number;
  cpuPct: number;
  errors: number;
  firstError?: string;
}

function terminalDef(i: number, path: string): Record<string, unknown> {
  return { id: `t${i}`, type: 'wonder-terminal', name: `pty ${i}`, transport: 'serial', serialPort: path, baudRate: BAUD, clientDeviceSN: CLIENT_SN };
}

function credentials(ids: number[]): Record<string, unknown> {
  return Object.fromEntries(ids.map((i) => [`t${i}`, { pairingCode: PAIRING_CODE }]));
}

async function memory(job: MemoryJob): Promise<MemorySample[]> {
  const helper = await startRuntime();
  const last = job.paths.length - 1;
  const tab = { id: 'f1', type: 'tab', label: 'idle' };
  // One terminal first, so one-time costs (the serialport binding, the first journal) are in the baseline.
  await loadFlow([tab, terminalDef(last, job.paths[last]!)], credentials([last]));
  await connected([`t${last}`]);
  const base = await settledMemory();
  const all = job.paths.map((_, i) => i);
  await helper.unload();
  await loadFlow([tab, ...job.paths.map((p, i) => terminalDef(i, p))], credentials(all));
  await connected(all.map((i) => `t${i}`), 30_000);
  const full = await settledMemory();
  await stopRuntime();
  return [
    { terminals: 1, ...base },
    { terminals: job.paths.length, ...full },
  ];
}

async function load(job: LoadJob): Promise<LoadRound[]> {
  await startRuntime();
  const all = job.paths.map((_, i) => i);
  const flow = [
    { id: 'f1', type: 'tab', label: 'load' },
    ...job.paths.map((p, i) => terminalDef(i, p)),
    ...all.flatMap((i) => saleFlowNodes('f1', `t${i}`, `-${i}`)),
    ...catchNodes('f1'),
  ];
  await loadFlow(flow, credentials(all));
  await connected(all.map((i) => `t${i}`), 30_000);
  for (const i of all) {
    const transport = terminalNode(`t${i}`).wonder.session!.transport as SerialTransport;
    meterWrites(transport, job.paceBaud > 0 ? { baud: job.paceBaud, precise: false } : undefined);
  }
  const rounds = await drive(job, (i) => timedSale(`-${i}`));
  await stopRuntime();
  return rounds;
}

async function bare(job: LoadJob): Promise<LoadRound[]> {
  const dir = job.mode === 'durable-bare' ? fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-durable-')) : undefined;
  const clients = await Promise.all(job.paths.map((p, i) => BareClient.open(p, dir === undefined ? {} : { durableFile: path.join(dir, `terminal-${i}.jsonl`) })));
  const rounds = await drive(job, async (i) => {
    const sale = await clients[i]!.sale(job.paceBaud > 0 ? 'timer' : 'none');
    return { ms: sale.ms, result: 'Success' };
  });
  await Promise.all(clients.map((c) => c.close()));
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  return rounds;
}

/** Node-RED's empty message path: per line, inject (the sale's payload) → function `return msg;` → helper, timed as a sale is. */
async function emptyPath(job: LoadJob): Promise<LoadRound[]> {
  await startRuntime();
  const all = job.paths.map((_, i) => i);
  const flow = [
    { id: 'f1', type: 'tab', label: 'empty path' },
    ...all.flatMap((i) => [
      { id: `in-${i}`, type: 'inject', z: 'f1', props: [{ p: 'payload' }], payload: SALE_PAYLOAD, payloadType: 'json', repeat: '', crontab: '', once: false, topic: '', wires: [[`fn-${i}`]] },
      { id: `fn-${i}`, type: 'function', z: 'f1', func: 'return msg;', outputs: 1, noerr: 0, wires: [[`out-${i}`]] },
      { id: `out-${i}`, type: 'helper', z: 'f1' },
    ]),
    ...catchNodes('f1'),
  ];
  await loadFlow(flow, {}, [coreNode('function/10-function.js')]);
  const rounds = await drive(job, async (i) => {
    const r = await timedSale(`-${i}`);
    return { ms: r.ms, result: r.result.startsWith('error') ? r.result : 'Success' };
  });
  await stopRuntime();
  return rounds;
}

/** One terminal alone, then all at once; each terminal's sales one after another. */
async function drive(job: LoadJob, saleOn: (i: number) => Promise<SaleResult>): Promise<LoadRound[]> {
  const all = job.paths.map((_, i) => i);
  let errors = 0;
  let firstError: string | undefined;
  const sale = async (i: number, into: number[]) => {
    const r = await saleOn(i);
    if (r.result !== 'Success') {
      errors++;
      firstError ??= r.result;
    }
    into.push(r.ms);
  };
  // Warm-up: every terminal, twice.
  await Promise.all(all.map(async (i) => {
    for (let k = 0; k < 2; k++) await sale(i, []);
  }));
  errors = 0;
  firstError = undefined;
  const rounds: LoadRound[] = [];
  for (let r = 0; r < job.rounds; r++) {
    const single: number[] = [];
    for (let k = 0; k < job.singleSales; k++) await sale(0, single);
    const many: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    await Promise.all(all.map(async (i) => {
      for (let k = 0; k < job.salesEach; k++) await sale(i, many);
    }));
    const wall = nowMs() - t0;
    const cpu = process.cpuUsage(cpu0);
    rounds.push({
      singleP50: percentile(single, 50),
      singleP99: percentile(single, 99),
      manyP50: percentile(many, 50),
      manyP99: percentile(many, 99),
      salesPerSecond: (many.length * 1000) / wall,
      cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
      errors,
      ...(firstError !== undefined ? { firstError } : {}),
    });
  }
  return rounds;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as Job;
  const result =
    job.mode === 'memory' ? await memory(job) : job.mode === 'bare' || job.mode === 'durable-bare' ? await bare(job) : job.mode === 'empty-path' ? await emptyPath(job) : await load(job);
  process.send!(result, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
