import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial } from '../lib/simulator/servers';
import type { SerialTransport } from '../lib/transport/serial';
import { startPtyPair } from '../test/helpers/pty';
import { BareClient } from './bare-client';
import { CLIENT_SN, PAIRING_CODE } from './fixtures';
import { BAUD, meterWrites, wireMs } from './line';
import { catchNodes, connected, loadFlow, saleFlowNodes, startRuntime, terminalNode, timedSale } from './node-red';
import { median } from './stats';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Part 3: one sale at a time through a deployed flow (inject → wonder-sale →
 * output) over a real pty (socat) to the simulator (card delay 0). The
 * simulator's answers are paced by serveSerial at 115,200 baud; the ECR's
 * requests are held for their wire time too (the pty itself has no baud rate).
 * Beside it, the bare client over the same line, to show what the line,
 * the timers and the simulator cost on their own.
 */
export interface FlowResult {
  rounds: number;
  salesPerRound: number;
  sales: number;
  requestBytes: number;
  responseBytes: number;
  wireMs: number;
  endToEndMs: number;
  /** End to end minus wire time (the definition of the package's own time). */
  overheadMs: number;
  overheadPct: number;
  bareEndToEndMs: number;
  bareOverheadMs: number;
  bareOverheadPct: number;
  /** Node-RED flow minus the bare client over the same line. */
  packageOnlyMs: number;
  packageOnlyPct: number;
  /** The durable bare client: the bare client plus an O_DSYNC append before the request and after the answer (one file). */
  durableBareEndToEndMs: number;
  durableBareOverheadMs: number;
  /** Node-RED flow minus the durable bare client, as a share of wire time (issue 22: at most 1 %). */
  packageVsDurablePct: number;
}

const ROUNDS = 4;
const PER_ROUND = 10;
const WARMUP = 3;

export async function runFlow(): Promise<FlowResult> {
  const pty = await startPtyPair();
  const terminal = new SimulatedTerminal({ cardDelayMs: 0 });
  const server = await serveSerial(terminal, { path: pty.b, paceBaud: BAUD });
  const answers = meterWrites(server.transport);
  const helper = await startRuntime();
  const flow = [
    { id: 'f1', type: 'tab', label: 'bench' },
    { id: 'tty', type: 'wonder-terminal', name: 'pty', transport: 'serial', serialPort: pty.a, baudRate: BAUD, clientDeviceSN: CLIENT_SN },
    ...saleFlowNodes('f1', 'tty', '-1'),
    ...catchNodes('f1'),
  ];
  const flowSamples: Array<{ ms: number; wire: number }> = [];
  const bareSamples: Array<{ ms: number; wire: number }> = [];
  const durableSamples: Array<{ ms: number; wire: number }> = [];
  const durableDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-durable-'));
  let requestBytes = 0;
  let responseBytes = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bare = await BareClient.open(pty.a);
      for (let i = 0; i < WARMUP + PER_ROUND; i++) {
        const before = answers.bytes;
        const sale = await bare.sale();
        if (i >= WARMUP) bareSamples.push({ ms: sale.ms, wire: wireMs(sale.requestBytes + answers.bytes - before) });
      }
      await bare.close();
      const durable = await BareClient.open(pty.a, { durableFile: path.join(durableDir, 'terminal-0.jsonl') });
      for (let i = 0; i < WARMUP + PER_ROUND; i++) {
        const before = answers.bytes;
        const sale = await durable.sale();
        if (i >= WARMUP) durableSamples.push({ ms: sale.ms, wire: wireMs(sale.requestBytes + answers.bytes - before) });
      }
      await durable.close();

      await loadFlow(flow, { tty: { pairingCode: PAIRING_CODE } });
      await connected(['tty']);
      const requests = meterWrites(terminalNode('tty').wonder.session!.transport as SerialTransport, { baud: BAUD, precise: true });
      for (let i = 0; i < WARMUP + PER_ROUND; i++) {
        const req = requests.bytes;
        const res = answers.bytes;
        const sale = await timedSale('-1');
        if (sale.result !== 'Success') throw new Error(`flow sale: ${sale.result}`);
        requestBytes = requests.bytes - req;
        responseBytes = answers.bytes - res;
        if (i >= WARMUP) flowSamples.push({ ms: sale.ms, wire: wireMs(requestBytes + responseBytes) });
      }
      await helper.unload();
    }
  } finally {
    await helper.unload().catch(() => undefined);
    await server.close();
    terminal.stop();
    await pty.stop();
    fs.rmSync(durableDir, { recursive: true, force: true });
  }
  const wire = median(flowSamples.map((s) => s.wire));
  const endToEndMs = median(flowSamples.map((s) => s.ms));
  const overheadMs = median(flowSamples.map((s) => s.ms - s.wire));
  const bareEndToEndMs = median(bareSamples.map((s) => s.ms));
  const bareOverheadMs = median(bareSamples.map((s) => s.ms - s.wire));
  const durableBareOverheadMs = median(durableSamples.map((s) => s.ms - s.wire));
  return {
    rounds: ROUNDS,
    salesPerRound: PER_ROUND,
    sales: flowSamples.length,
    requestBytes,
    responseBytes,
    wireMs: wire,
    endToEndMs,
    overheadMs,
    overheadPct: (100 * overheadMs) / wire,
    bareEndToEndMs,
    bareOverheadMs,
    bareOverheadPct: (100 * bareOverheadMs) / wire,
    packageOnlyMs: overheadMs - bareOverheadMs,
    packageOnlyPct: (100 * (overheadMs - bareOverheadMs)) / wire,
    durableBareEndToEndMs: median(durableSamples.map((s) => s.ms)),
    durableBareOverheadMs,
    packageVsDurablePct: (100 * (overheadMs - durableBareOverheadMs)) / wire,
  };
}
