/**
 * Soak: many sales against the simulated terminal over a real pseudo-terminal
 * (socat) with random line faults (noise, drip-fed bytes, corrupt frames) and
 * random outcomes (pending, declined, lost approvals, duplicate deliveries).
 * Reports: none lost, none doubled, the journal agrees with the terminal's
 * books, heap and handles flat.
 *
 *   node dist/scripts/soak.js [--sales 10000] [--concurrency 4] [--seed 1]
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLedger } from '../lib/ledger';
import { PendingError, TerminalSession, type Outcome } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial } from '../lib/simulator/servers';
import { SerialTransport } from '../lib/transport/serial';
import { rng } from './rng';

export interface SoakOptions {
  sales: number;
  concurrency?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  sales: number;
  uniqueReferences: number;
  approved: number;
  declined: number;
  stillPending: number;
  /** Released from the queue after waiting past their time-out: never sent. */
  queueTimeouts: number;
  errors: number;
  duplicatesAnswered: number;
  resolvedByStatus: number;
  salesOnTheWire: number;
  doubled: number;
  lost: number;
  journalDisagreements: number;
  lineFaults: { discardedBytes: number; corruptFrames: number };
  /** Heap before setting up, at the middle of the run (books included), and after teardown. */
  heapMB: { before: number; middle: number; afterTeardown: number };
  handles: { start: number; end: number; startKinds: string[]; endKinds: string[] };
  fds: { start: number; end: number };
  seconds: number;
  ok: boolean;
}

function fdCount(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;
}

async function ptyPair(dir: string): Promise<{ a: string; b: string; stop(): Promise<void> }> {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(fs.existsSync(a) && fs.existsSync(b)); i++) await new Promise((r) => setTimeout(r, 25));
  if (!fs.existsSync(a)) throw new Error('socat did not make the pty pair');
  return {
    a,
    b,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The amount of sale `i`: mostly approvals, with the simulator's fault amounts mixed in. */
function amountFor(random: () => number): string {
  const r = random();
  if (r < 0.05) return SIMULATOR_AMOUNTS.pendingThenApprove;
  if (r < 0.08) return SIMULATOR_AMOUNTS.decline;
  if (r < 0.085) return SIMULATOR_AMOUNTS.noAnswer;
  return (1 + Math.floor(random() * 89_999) / 100).toFixed(2);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const heapBefore = heapMB();
  // Count after a turn of the event loop, so the caller's own timers are in both counts.
  await new Promise((r) => setImmediate(r));
  const handlesAtStart = process.getActiveResourcesInfo();
  const fdsAtStart = fdCount();
  const report = await drive(options);
  // Let closing handles finish, then count once the timer that waited is gone too.
  await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setImmediate(r));
  // Everything the run made is out of scope now: what is left is what the package retains.
  report.heapMB.before = heapBefore;
  report.heapMB.afterTeardown = heapMB();
  report.handles = { start: handlesAtStart.length, end: 0, startKinds: handlesAtStart, endKinds: process.getActiveResourcesInfo() };
  report.handles.end = report.handles.endKinds.length;
  report.fds = { start: fdsAtStart, end: fdCount() };
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  report.ok =
    report.doubled === 0 &&
    report.lost === 0 &&
    report.stillPending === 0 &&
    report.errors === 0 &&
    report.journalDisagreements === 0 &&
    report.handles.end <= report.handles.start &&
    report.fds.end <= report.fds.start &&
    report.heapMB.afterTeardown <= report.heapMB.before + 2;
  return report;
}

/** Sets up the line, the terminal and the session, runs the sales, checks the books, tears down. */
async function drive(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const random = rng(options.seed ?? 1);
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-soak-'));
  const pty = await ptyPair(dir);
  const terminal = new SimulatedTerminal({ cardDelayMs: 0, pendingMs: 40 });
  const server = await serveSerial(terminal, { path: pty.b, faults: { noise: 0.05, drip: 0.02, corrupt: 0.05 }, random: rng((options.seed ?? 1) + 1) });
  // The journal keeps its default bound: agreement is checked as each outcome arrives.
  const journal = openLedger(path.join(dir, 'ledger.db'));
  const transport = new SerialTransport({ path: pty.a, interFrameTimeoutMs: 200 });
  const session = new TerminalSession({
    transport,
    pairingCode: '260880',
    clientDeviceSN: 'SOAK',
    journal,
    terminalId: 'soak',
    paymentTimeoutMs: 400,
    commandTimeoutMs: 400,
    statusPollIntervalMs: 20,
    resolveTimeoutMs: 5_000,
    maxQueue: 1_000,
  });
  await session.open();

  const results = new Map<string, 'Success' | 'Failed'>();
  let stillPending = 0;
  let errors = 0;
  let duplicatesAnswered = 0;
  let resolvedByStatus = 0;
  let journalDisagreements = 0;
  let middle = 0;
  let next = 0;
  const issued: string[] = [];
  const amounts = new Map<string, string>();
  const releasedFromQueue = new Set<string>();

  /** The journal and the terminal's books must say the same of a settled sale. */
  const agrees = (ref: string, outcome: Outcome) => {
    const entry = journal.get('Sale', ref);
    const books = terminal.transactions.get(ref)?.state ?? 'Failed'; // never reached the terminal: nothing taken
    const expected = books === 'Success' ? 'Success' : 'Failed';
    return entry !== undefined && entry.state === expected && outcome.result === expected;
  };

  const one = async (): Promise<void> => {
    const i = next++;
    if (i >= options.sales) return;
    // One delivery in a hundred is a duplicate of a recent order (a broker redelivers).
    const duplicate = issued.length > 0 && random() < 0.01;
    const recent = Math.min(issued.length, 50);
    const referenceID = duplicate ? issued[issued.length - 1 - Math.floor(random() * recent)]! : `soak-${i}`;
    // A redelivery is the same order: same amount.
    const amount = duplicate ? amounts.get(referenceID)! : amountFor(random);
    if (!duplicate) {
      issued.push(referenceID);
      amounts.set(referenceID, amount);
    }
    try {
      const outcome = await session.request('Sale', { amount, currency: 'HKD', referenceID });
      if (outcome.duplicate === true) duplicatesAnswered++;
      if (outcome.resolvedBy === 'TransactionStatus') resolvedByStatus++;
      releasedFromQueue.delete(referenceID);
      results.set(referenceID, outcome.result as 'Success' | 'Failed');
      if (!agrees(referenceID, outcome)) journalDisagreements++;
    } catch (err) {
      if (err instanceof PendingError) stillPending++;
      else if ((err as { code?: string }).code === 'E_TIMEOUT' && /in the queue/.test((err as Error).message)) {
        if (!results.has(referenceID)) releasedFromQueue.add(referenceID);
      } else {
        errors++;
        log(`sale ${referenceID}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
      }
    }
    if (i === Math.floor(options.sales / 2)) middle = heapMB();
    if (i % 1000 === 0) log(`${i} sales, ${Math.round((Date.now() - started) / 1000)} s`);
    return one();
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, () => one()));

  // Books: every unique reference went out at most once; one released from the queue never went out.
  const saleCounts = new Map<string, number>();
  for (const r of terminal.received) if (r.action === 'Sale' && r.referenceID) saleCounts.set(r.referenceID, (saleCounts.get(r.referenceID) ?? 0) + 1);
  const doubled = [...saleCounts.values()].filter((n) => n > 1).length;
  for (const ref of releasedFromQueue) if (saleCounts.has(ref) || journal.get('Sale', ref) !== undefined) journalDisagreements++;
  const lost = issued.filter((ref) => !results.has(ref) && !releasedFromQueue.has(ref)).length - stillPending - errors;
  const approved = [...results.values()].filter((r) => r === 'Success').length;
  const report: SoakReport = {
    sales: options.sales,
    uniqueReferences: issued.length,
    approved,
    declined: results.size - approved,
    stillPending,
    queueTimeouts: releasedFromQueue.size,
    errors,
    duplicatesAnswered,
    resolvedByStatus,
    salesOnTheWire: [...saleCounts.values()].reduce((a, b) => a + b, 0),
    doubled,
    lost,
    journalDisagreements,
    lineFaults: { discardedBytes: 0, corruptFrames: 0 },
    heapMB: { before: 0, middle, afterTeardown: 0 },
    handles: { start: 0, end: 0, startKinds: [], endKinds: [] },
    fds: { start: 0, end: 0 },
    seconds: 0,
    ok: false,
  };
  const decoderStats = (transport as unknown as { decoder?: { stats: { discardedBytes: number; dataCrcErrors: number } } }).decoder?.stats;
  if (decoderStats) report.lineFaults = { discardedBytes: decoderStats.discardedBytes, corruptFrames: decoderStats.dataCrcErrors };
  await session.close();
  await journal.close();
  terminal.stop();
  await server.close();
  await pty.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return report;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  runSoak({ sales: arg('sales', 10_000), concurrency: arg('concurrency', 4), seed: arg('seed', 1), log: (l) => process.stderr.write(`${l}\n`) }).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.exitCode = report.ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`soak failed: ${String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
