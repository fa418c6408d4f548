import * as os from 'node:os';
import type { DecoderResult } from './decoder';
import type { FlowResult } from './flow';
import type { JournalResult } from './journal';
import type { LedgerReadsResult } from './ledger-reads';
import type { LedgerStartResult } from './ledger-start';
import type { MicroResult } from './micro';
import type { ProgressResult } from './progress';
import type { RedactResult } from './redact';
import { cpuMsPerSale, type ScaleResult } from './scale';
import { nodeRedVersion } from '../test/helpers/node-red-install';
import { round } from './stats';

/** A goal of issue 7: the figure measured, the target, and whether it is met. */
export interface Goal {
  figure: number;
  target: number;
  unit: string;
  pass: boolean;
  /** How figure and target compare for a pass. */
  rule: 'figure <= target' | 'figure >= target';
}

export interface Results {
  environment: Record<string, string | number>;
  repeats: Record<string, string>;
  figures: { encodeDecode: MicroResult; decoder: DecoderResult; redact: RedactResult; flow: FlowResult; scale: ScaleResult; journal: JournalResult; ledgerReads: LedgerReadsResult; ledgerStart: LedgerStartResult; progress: ProgressResult };
  goals: Record<string, Goal>;
  /** The machine's load averages when the run ended (see environment.loadAverage). */
  loadAverageAtEnd: string;
  runSeconds: number;
}

function atMost(figure: number, target: number, unit: string): Goal {
  return { figure: round(figure, 3), target: round(target, 3), unit, pass: figure <= target, rule: 'figure <= target' };
}
function atLeast(figure: number, target: number, unit: string): Goal {
  return { figure: round(figure, 3), target: round(target, 3), unit, pass: figure >= target, rule: 'figure >= target' };
}

export function environment(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    nodeRed: nodeRedVersion(),
    adyenApiLibrary: (require('@adyen/api-library/package.json') as { version: string }).version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGB: round(os.totalmem() / 2 ** 30, 1),
    // The machine may be shared: its load when the run started (1, 5 and 15 minute averages; above the core count, figures are not comparable).
    loadAverage: os.loadavg().map((l) => round(l, 1)).join(' / '),
    date: new Date().toISOString(),
  };
}

/** The issue's goals, with its targets. */
export function goals(f: Results['figures']): Record<string, Goal> {
  const us = f.encodeDecode.usPerOp;
  return {
    encodeVsFloor: atMost(us.packageEncode! / us.floorEncode!, 1.3, '× bare floor'),
    decodeVsFloor: atMost(us.packageDecode! / us.floorDecode!, 1.3, '× bare floor'),
    encodeVsAdyen: atMost(us.packageEncode!, us.adyenEncode!, 'µs (target: Adyen)'),
    decodeVsAdyen: atMost(us.packageDecode!, us.adyenDecode!, 'µs (target: Adyen)'),
    decoder4kChunks: atLeast(f.decoder.mbPerSecond4k, 200, 'MB/s'),
    decoder1ByteChunks: atLeast(f.decoder.mbPerSecond1byte, 20, 'MB/s'),
    decoderLinearity: atMost(f.decoder.ratio8to1, 9, '× (8 MB time / 1 MB time)'),
    // A Scan2Pay reply is redacted on the event loop: linear in its length, whatever its shape.
    redactLinearity: atMost(f.redact.worstRatio, 9, '× (1 MB reply time / 128 KB reply time, worst shape)'),
    journal100k: atMost(f.journal.ratio, 1.05, '× (sale with 100,000 journal entries / with an empty journal)'),
    // Issue 22: a month's totals over 500,000 payments, the event loop never held more than 20 ms.
    ledgerMonthTotals500k: atMost(f.ledgerReads.monthTotalsMs, 200, "ms (a month's totals over 500,000 payments, reader worker)"),
    ledgerReadsLoopHeld: atMost(f.ledgerReads.heldCpuMs, 20, 'ms the event loop was held (thread CPU) during any ledger read'),
    flowOverhead: atMost(f.flow.overheadPct, 2, '% of wire time (end to end − wire)'),
    flowOverheadLessRig: atMost(f.flow.packageOnlyPct, 1, '% of wire time (flow − bare client, same line)'),
    // Issue 22: against the bare client with the same durability (two O_DSYNC appends per sale).
    flowVsDurableBare: atMost(f.flow.packageVsDurablePct, 1, '% of wire time (flow − durable bare client, same line)'),
    scaleP99: atMost(f.scale.paced.nodeRed.p99Ratio, 1.15, '× single-terminal p99'),
    // Issue 22: no worse than the durable bare client's own ratio (the same two durable writes per sale).
    scaleP99VsDurableBare: atMost(f.scale.paced.nodeRed.p99Ratio, f.scale.paced.durableBare.p99Ratio, '× single-terminal p99 (target: the durable bare client\'s)'),
    // Issue 11: CPU per sale through Node-RED, unpaced, halved from 1,460 sales/s at 96 % of a core (0.658 ms).
    unpacedCpuPerSale: atMost(cpuMsPerSale(f.scale.unpaced.nodeRed), 0.329, 'ms of CPU per sale (50 terminals, no pacing)'),
    // Issue 22: against its honest floor, measured in the same run: the durable bare client on the same lines, plus Node-RED's own empty message path.
    unpacedCpuVsFloor: atMost(
      cpuMsPerSale(f.scale.unpaced.nodeRed) / (cpuMsPerSale(f.scale.unpaced.durableBare) + cpuMsPerSale(f.scale.unpaced.emptyPath)),
      1.5,
      '× (durable bare client + Node-RED empty message path), CPU per sale unpaced',
    ),
    // Issue 22: 50 terminals on 10,000 settled payments each, beside the same gateway on an empty ledger.
    ledgerStartRssMB: atMost(f.ledgerStart.rssDeltaMB, 40, 'MB RSS after start and GC above the same gateway on an empty ledger'),
    ledgerStartSeconds: atMost(f.ledgerStart.full.startMs / 1000, 0.5, 's from deploy to every terminal connected (full ledger)'),
    progressLatency: atMost(f.progress.sendMaxMs, 5, 'ms (session learns a step → progress message sent, slowest of all)'),
    idleTerminalMemory: atMost(f.scale.memoryPerTerminal.rssKB, 1024, 'KB RSS per idle terminal'),
  };
}

const fix = (n: number, d = 1) => n.toFixed(d);

/** Markdown tables: the figures, then the goals. */
export function tables(r: Results): string {
  const { encodeDecode: m, decoder: d, redact: rd, flow: fl, scale: s, journal: j, ledgerReads: q, ledgerStart: ls, progress: p } = r.figures;
  const us = m.usPerOp;
  const n = s.paced.nodeRed;
  const b = s.paced.bare;
  const u = s.unpaced.nodeRed;
  const ub = s.unpaced.durableBare;
  const ue = s.unpaced.emptyPath;
  const floorMs = cpuMsPerSale(ub) + cpuMsPerSale(ue);
  const lines = [
    `| Measure | Package | Beside it |`,
    `| --- | --- | --- |`,
    `| Encode a Sale, µs (validate + build + encrypt + frame; ${m.bytes.requestFrame}-byte frame) | ${fix(us.packageEncode!)} | floor ${fix(us.floorEncode!)} · Adyen ${fix(us.adyenEncode!)} (encrypt() alone ${fix(us.adyenEncryptOnly!)}) |`,
    `| Decode a Success, µs (deframe + decrypt + parse + validate; ${m.bytes.responseFrame}-byte frame) | ${fix(us.packageDecode!)} | floor ${fix(us.floorDecode!)} · Adyen ${fix(us.adyenDecode!)} (decrypt() alone ${fix(us.adyenDecryptOnly!)}) |`,
    `| Encode as TerminalSession does it per Sale, µs | ${fix(us.sessionEncode!)} | |`,
    `| Frame decoder, 4 KB chunks, ${fix(100 * d.noiseShare)} % noise | ${fix(d.mbPerSecond4k, 0)} MB/s | |`,
    `| Frame decoder, 1-byte chunks | ${fix(d.mbPerSecond1byte)} MB/s | |`,
    `| Frame decoder, 1 MB / 8 MB in one push | ${fix(d.ms1MB, 2)} ms / ${fix(d.ms8MB, 2)} ms = ${fix(d.ratio8to1, 2)}× | in 64 KB chunks: ${fix(d.ratio8to1By64k, 2)}× |`,
    `| EasyCard redaction of a 1 MB reply, worst shape, ms | ${fix(rd.worstFullMs, 0)} | worst 1 MB / 128 KB: ${fix(rd.worstRatio, 2)}× (${Object.entries(rd.shapes).map(([k, v]) => `${k} ${fix(v.ratio, 2)}×`).join(' · ')}) |`,
    `| Sale through Node-RED over a pty at 115,200 baud, ms | ${fix(fl.endToEndMs, 2)} | wire ${fix(fl.wireMs, 2)} (${fl.requestBytes} + ${fl.responseBytes} bytes) · bare client ${fix(fl.bareEndToEndMs, 2)} |`,
    `| … end to end − wire time, ms | ${fix(fl.overheadMs, 2)} (${fix(fl.overheadPct, 2)} %) | bare client ${fix(fl.bareOverheadMs, 2)} (${fix(fl.bareOverheadPct, 2)} %) |`,
    `| … Node-RED flow − bare client, ms | ${fix(fl.packageOnlyMs, 2)} (${fix(fl.packageOnlyPct, 2)} %) | |`,
    `| … Node-RED flow − durable bare client (two O_DSYNC appends per sale), % of wire time | ${fix(fl.packageVsDurablePct, 2)} % | durable bare client ${fix(fl.durableBareEndToEndMs, 2)} ms end to end, ${fix(fl.durableBareOverheadMs, 2)} ms over wire |`,
    `| ${s.terminals} terminals at 115,200 baud: sales/s | ${fix(n.salesPerSecond, 0)} (CPU ${fix(n.cpuPct, 0)} %) | bare client ${fix(b.salesPerSecond, 0)} |`,
    `| … p50 / p99 latency, ms | ${fix(n.manyP50Ms)} / ${fix(n.manyP99Ms)} | bare client ${fix(b.manyP50Ms)} / ${fix(b.manyP99Ms)} |`,
    `| … one terminal alone, p50 / p99, ms | ${fix(n.singleP50Ms)} / ${fix(n.singleP99Ms)} | bare client ${fix(b.singleP50Ms)} / ${fix(b.singleP99Ms)} |`,
    `| … p99 ${s.terminals} / p99 one | ${fix(n.p99Ratio, 2)}× | bare client ${fix(b.p99Ratio, 2)}× · durable bare client ${fix(s.paced.durableBare.p99Ratio, 2)}× (p50 / p99 ${fix(s.paced.durableBare.manyP50Ms)} / ${fix(s.paced.durableBare.manyP99Ms)} ms) |`,
    `| ${s.terminals} terminals, no pacing: sales/s, p50 / p99 ms | ${fix(u.salesPerSecond, 0)} (CPU ${fix(u.cpuPct, 0)} %), ${fix(u.manyP50Ms)} / ${fix(u.manyP99Ms)} | durable bare client ${fix(ub.salesPerSecond, 0)} (CPU ${fix(ub.cpuPct, 0)} %), ${fix(ub.manyP50Ms)} / ${fix(ub.manyP99Ms)} |`,
    `| … CPU per sale, ms | ${fix(cpuMsPerSale(u), 3)} (${fix(cpuMsPerSale(u) / floorMs, 2)}× the floor) | floor ${fix(floorMs, 3)}: durable bare client ${fix(cpuMsPerSale(ub), 3)} + Node-RED's empty message path ${fix(cpuMsPerSale(ue), 3)} per message (inject → function → helper, ${s.terminals} chains: ${fix(ue.salesPerSecond, 0)} messages/s, CPU ${fix(ue.cpuPct, 0)} %) |`,
    `| A sale with ${j.entries.toLocaleString('en')} journal entries, ms (journal loaded in ${fix(j.loadMs, 0)} ms) | ${fix(j.msPerSaleFull, 3)} | empty journal ${fix(j.msPerSaleEmpty, 3)} · ratio ${fix(j.ratio, 3)}× |`,
    `| A month's totals over ${q.payments.toLocaleString('en')} payments (ledger, reader worker), ms · its CPU in the worker | ${fix(q.monthTotalsMs)} · ${fix(q.monthTotalsCpuMs)} | a day ${fix(q.dayTotalsMs)} · open payments ${fix(q.openListMs)} · newest 100 ${fix(q.recentListMs)} · a day's CSV ${fix(q.dayCsvMs, 0)} |`,
    `| … the event loop held at most, ms (thread CPU · wall) | ${fix(q.heldCpuMs)} · ${fix(q.heldWallMs)} | ledger built in ${fix(q.buildMs / 1000, 1)} s |`,
    `| ${ls.terminals} terminals started on a ledger of ${ls.payments.toLocaleString('en')} settled payments (${fix(ls.ledgerMB, 0)} MB): deploy → all connected, s · RSS after GC, MB | ${fix(ls.full.startMs / 1000, 3)} · ${fix(ls.full.rssMB)} (${ls.rssDeltaMB >= 0 ? '+' : ''}${fix(ls.rssDeltaMB)} over empty; heap ${ls.heapDeltaMB >= 0 ? '+' : ''}${fix(ls.heapDeltaMB)}); event loop held at most ${fix(ls.full.loopHeldMs)} ms | empty ledger ${fix(ls.empty.startMs / 1000, 3)} s · ${fix(ls.empty.rssMB)} MB; held at most ${fix(ls.empty.loopHeldMs)} ms |`,
    `| Progress step: session learns it → sale node sends it, ms (${p.steps} steps of ${p.sales} sales) | median ${fix(p.sendMedianMs, 3)} · p95 ${fix(p.sendP95Ms, 3)} · max ${fix(p.sendMaxMs, 3)} | → next node's input: median ${fix(p.deliverMedianMs, 3)} · p95 ${fix(p.deliverP95Ms, 3)} · max ${fix(p.deliverMaxMs, 3)} |`,
    `| Memory per idle terminal (serial, after GC), KB | RSS ${fix(s.memoryPerTerminal.rssKB)} · heap ${fix(s.memoryPerTerminal.heapKB)} · external ${fix(s.memoryPerTerminal.externalKB)} | |`,
    '',
    `| Goal | Figure | Target | Pass |`,
    `| --- | --- | --- | --- |`,
    ...Object.entries(r.goals).map(
      ([name, g]) => `| ${name} | ${g.figure} | ${g.rule === 'figure <= target' ? '≤' : '≥'} ${g.target} ${g.unit} | ${g.pass ? 'pass' : '**FAIL**'} |`,
    ),
  ];
  return lines.join('\n');
}
