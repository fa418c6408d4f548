import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type Timer } from '../clock';
import { isWonderError, type Action } from '../protocol';
import { emptyLineCounters, SerialTransport, type LineCounters, type TransportState } from '../transport';
import {
  CounterWindow,
  diagnose,
  faultOfError,
  type Diagnosis,
  type ExchangeEvent,
  type Heard,
  type Outcome,
  type TerminalSession,
  type TraceEntry,
  type TraceLog,
} from '../session';
import { listSerialPorts } from './serial-ports';

/** How often the counters are sampled and the diagnosis looked at again: a fault shows within a few seconds. */
export const MONITOR_TICK_MS = 1_000;
/** Bytes a serial frame adds around its envelope (header and data CRC). */
const FRAME_OVERHEAD = 14;
/** Records of one kind this close together are one burst. */
const BURST_GAP_MS = 2_000;
/** Errors whose text a diagnosis completes: the line's, not the caller's or the journal's. */
const LINE_ERRORS = new Set(['E_TIMEOUT', 'E_TRANSPORT', 'E_CLOSED', 'E_SECURITY', 'E_PENDING', 'E_PROTOCOL', 'E_FRAME']);
/** Their time-out waits for a cardholder: it says nothing about the line. */
const CARDHOLDER_WAITS: readonly Action[] = ['Sale', 'Refund', 'Void', 'Pair'];

export interface LineMonitorOptions {
  /** The serial ports there now, for a port that is gone (default, on a serial link: as the editor lists them). */
  listPorts?: () => Promise<string[]>;
  /** Samples, windows and bursts on its monotonic reading; the trace's and the diagnosis's times on its wall reading (default systemClock). */
  clock?: Clock;
}

/** A diagnosis as a Terminal keeps it: with the ports that are there when the port is gone. */
export interface NodeDiagnosis extends Diagnosis {
  ports?: string[];
}

/** The running monitors of each clock, sampled by one timer per clock (not one per terminal). */
const samplers = new Map<Clock, { monitors: Set<LineMonitor>; timer: Timer }>();

function joinSampler(clock: Clock, monitor: LineMonitor): void {
  let sampler = samplers.get(clock);
  if (sampler === undefined) {
    const monitors = new Set<LineMonitor>();
    const tick = (): Timer =>
      clock.setTimer(
        () => {
          for (const m of monitors) m.tick();
          if (samplers.get(clock) === sampler) sampler!.timer = tick();
        },
        MONITOR_TICK_MS,
        { background: true },
      );
    sampler = { monitors, timer: tick() };
    samplers.set(clock, sampler);
  }
  sampler.monitors.add(monitor);
}

function leaveSampler(clock: Clock, monitor: LineMonitor): void {
  const sampler = samplers.get(clock);
  if (sampler === undefined || !sampler.monitors.delete(monitor) || sampler.monitors.size > 0) return;
  sampler.timer.cancel();
  samplers.delete(clock);
}

/**
 * Watches one terminal's line: fills its counters and its trace, and keeps
 * its diagnosis. Reads the serial decoder's own counters (nothing is done per
 * frame), the session's exchange events (one per message) and the
 * transport's discards (only when there is noise); sampled once a second by
 * one timer shared by every monitor on the same clock.
 *
 * Events: `change` (the diagnosis changed: the status follows), `fault`
 * (NodeDiagnosis: a new fault, once, with its detail).
 */
export class LineMonitor extends EventEmitter {
  readonly counters: LineCounters;
  private readonly stream: boolean;
  private readonly window = new CounterWindow();
  private transport: TransportState;
  private linkError: unknown;
  private heard: { what: Heard; at: number } | undefined;
  private current: NodeDiagnosis | undefined;
  private framesAtDiagnosis = 0;
  private recent = emptyLineCounters();
  private sinceFrameMs = Number.POSITIVE_INFINITY;
  private lastAdded: TraceEntry | undefined;
  /** The answer records of the last few requests, to write their verdict in. */
  private readonly answers = new Map<string, TraceEntry>();
  private discardSeen = { noise: 0, crc: 0 };
  /** When the last burst record was added or grew (monotonic). */
  private lastBurstAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly clock: Clock;

  private readonly listPorts: (() => Promise<string[]>) | undefined;

  constructor(
    session: TerminalSession,
    private readonly trace: TraceLog,
    options: LineMonitorOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.listPorts = options.listPorts ?? (session.transport.kind === 'serial' ? serialPortPaths : undefined);
    const transport = session.transport;
    this.transport = transport.state;
    this.stream = transport.kind === 'serial';
    const counted = emptyLineCounters();
    if (transport instanceof SerialTransport) {
      // The decoder counts already: read its numbers when asked, never per frame.
      const stats = transport.lineStats;
      Object.defineProperties(counted, {
        framesReceived: { get: () => stats.frames, enumerable: true },
        crcErrors: { get: () => stats.dataCrcErrors, enumerable: true },
        noiseBytes: { get: () => stats.discardedBytes, enumerable: true },
      });
      transport.on('discard', () => this.onDiscard(stats));
    }
    this.counters = counted;
    this.window.sample(this.clock.monotonic(), this.counters);
    session.on('exchange', (e: ExchangeEvent) => this.onExchange(e));
    session.on('state', (state: TransportState, err?: Error) => {
      this.transport = state;
      if (state === 'reconnecting' && err !== undefined) this.linkError = err;
      else if (state === 'connected') this.linkError = undefined;
      this.evaluate();
    });
    joinSampler(this.clock, this);
  }

  /** The fault in force, if any. */
  diagnosis(): NodeDiagnosis | undefined {
    return this.current === undefined ? undefined : { ...this.current, ...(this.current.ports !== undefined ? { ports: [...this.current.ports] } : {}) };
  }

  /** A request's outcome (returned as it is): a busy terminal, and a payment's verdict in the trace. */
  noteOutcome<O extends Outcome>(outcome: O): O {
    const record = this.answers.get(outcome.requestID);
    if (record !== undefined && outcome.verdict !== undefined) record.result = outcome.verdict;
    const busy = outcome.reason === 'terminal-busy';
    if (busy || this.heard?.what === 'busy') {
      this.heard = { what: busy ? 'busy' : 'answer', at: this.clock.monotonic() };
      this.evaluate();
    }
    return outcome;
  }

  /**
   * Gives a failed request's error the diagnosis in force (`err.diagnosis`),
   * for its text. Looked at again first: a request fails at the moment its
   * cause is known.
   */
  explain<E>(err: E): E {
    if (!isWonderError(err) || !LINE_ERRORS.has(err.code)) return err;
    this.evaluate(err.code === 'E_SECURITY');
    if (this.current !== undefined) Object.defineProperty(err, 'diagnosis', { value: this.current.code, enumerable: false, configurable: true });
    return err;
  }

  stop(): void {
    this.stopped = true;
    leaveSampler(this.clock, this);
  }

  /** Samples the counters and looks at the diagnosis again (the shared sampler calls it once a second). */
  tick(): void {
    const sampled = this.window.sample(this.clock.monotonic(), this.counters);
    this.recent = sampled.recent;
    this.sinceFrameMs = sampled.sinceFrameMs;
    this.evaluate();
  }

  /** Decides the cause from what is known now; `securityFailed`: a request has just failed on answers that did not decrypt. */
  private evaluate(securityFailed = false): void {
    if (this.stopped) return;
    const now = this.clock.monotonic();
    const previous = this.current === undefined ? undefined : { code: this.current.code, framesSince: this.counters.framesReceived - this.framesAtDiagnosis };
    const heard = this.heard === undefined ? undefined : { what: this.heard.what, agoMs: securityFailed ? Number.POSITIVE_INFINITY : now - this.heard.at };
    const linkFault = this.linkError === undefined ? undefined : faultOfError(this.linkError, this.stream);
    const code = diagnose({
      stream: this.stream,
      transport: this.transport,
      ...(linkFault !== undefined ? { linkFault } : {}),
      recent: this.recent,
      sinceFrameMs: this.sinceFrameMs,
      ...(heard !== undefined ? { lastHeard: heard } : {}),
      ...(previous !== undefined ? { previous } : {}),
    });
    if (code === this.current?.code) return;
    this.framesAtDiagnosis = this.counters.framesReceived;
    // A fault of the link itself carries the transport's words (a path, a host and port, an errno: never a secret).
    const detail = code !== undefined && code === linkFault && this.linkError instanceof Error ? this.linkError.message.slice(0, 200) : undefined;
    this.current = code === undefined ? undefined : { code, since: new Date(this.clock.wall()).toISOString(), ...(detail !== undefined ? { detail } : {}) };
    this.emit('change', this.diagnosis());
    if (code !== undefined) this.announce(this.current!);
  }

  /** A new fault, once: with the ports that are there when the port is gone. */
  private announce(diagnosis: NodeDiagnosis): void {
    if (diagnosis.code !== 'port-gone' || this.listPorts === undefined) {
      this.emit('fault', { ...diagnosis });
      return;
    }
    const done = (ports: string[]) => {
      if (this.current !== diagnosis) return;
      diagnosis.ports = ports;
      diagnosis.detail = ports.join(', ');
      this.emit('fault', this.diagnosis());
    };
    this.listPorts().then(done, () => done([]));
  }

  private onExchange(e: ExchangeEvent): void {
    const at = this.clock.wall();
    const now = this.clock.monotonic();
    switch (e.kind) {
      case 'sent':
        this.add({ atMs: at, direction: 'out', action: e.action, requestID: e.requestID, bytes: this.wire(e.bytes), result: 'sent' });
        return;
      case 'failed':
        this.add({ atMs: at, direction: 'out', action: e.action, requestID: e.requestID, bytes: 0, result: `failed ${e.code}` });
        return;
      case 'timeout':
        this.counters.timeouts++;
        this.add({ atMs: at, direction: 'in', action: e.action, requestID: e.requestID, bytes: 0, result: 'timeout' });
        if (!CARDHOLDER_WAITS.includes(e.action)) {
          this.linkError = Object.assign(new Error(`${e.action}: no answer`), { code: 'E_TIMEOUT' });
          this.evaluate();
        }
        return;
      case 'answered': {
        // A payment refused while the terminal is busy is busy again until its outcome says otherwise (noteOutcome).
        const maybeBusy = this.heard?.what === 'busy' && e.status === 'Failed' && CARDHOLDER_WAITS.includes(e.action);
        // On a healthy line an answer changes nothing: the usual case costs no evaluation.
        const changes = this.current !== undefined || this.linkError !== undefined;
        this.heardFrom(maybeBusy ? 'busy' : 'answer', now);
        const record: TraceEntry = { atMs: at, direction: 'in', action: e.action, requestID: e.requestID, bytes: this.wire(e.bytes), result: e.status?.toLowerCase() ?? 'answered' };
        this.add(record);
        this.answers.set(e.requestID, record);
        if (this.answers.size > 8) this.answers.delete(this.answers.keys().next().value!);
        if (changes) this.evaluate();
        return;
      }
      case 'undecryptable':
        this.counters.undecryptable++;
        this.heardFrom('undecryptable', now);
        this.burst('undecryptable', this.wire(e.bytes));
        return;
      default:
        if (!this.stream) this.counters.framesReceived++;
        this.burst('stray', this.wire(e.bytes));
    }
  }

  private heardFrom(what: Heard, at: number): void {
    // Something came back: the link works, whatever it said.
    if (!this.stream) this.counters.framesReceived++;
    this.heard = { what, at };
    this.linkError = undefined;
  }

  /** Noise or a bad frame on the serial line: a record per burst (the decoder has counted the bytes already). */
  private onDiscard(stats: { discardedBytes: number; dataCrcErrors: number }): void {
    const noise = stats.discardedBytes - this.discardSeen.noise;
    const crc = stats.dataCrcErrors - this.discardSeen.crc;
    this.discardSeen = { noise: stats.discardedBytes, crc: stats.dataCrcErrors };
    if (crc > 0) this.burst('crc-error', 0, crc);
    if (noise > 0) this.burst('noise', noise);
    if (crc === 0 && noise === 0) this.burst('bad-frame', 0);
  }

  /** Adds to the last record when it is the same kind of burst, still going on; else starts one. */
  private burst(result: string, bytes: number, count = 1): void {
    const last = this.lastAdded;
    const now = this.clock.monotonic();
    const at = this.clock.wall();
    const going = now - this.lastBurstAt <= BURST_GAP_MS;
    this.lastBurstAt = now;
    if (last !== undefined && last.result === result && going) {
      last.bytes += bytes;
      last.count = (last.count ?? 1) + count;
      last.lastAtMs = at;
      return;
    }
    this.add({ atMs: at, direction: 'in', action: '-', bytes, result, count });
  }

  private add(record: TraceEntry): void {
    this.trace.add(record);
    this.lastAdded = record;
  }

  private wire(envelopeBytes: number): number {
    return this.stream ? envelopeBytes + FRAME_OVERHEAD : envelopeBytes;
  }
}

/** The serial ports there now, as the editor lists them (stable by-id links first). */
async function serialPortPaths(): Promise<string[]> {
  const ports = await listSerialPorts(() => import('serialport').then(({ SerialPort }) => SerialPort.list()));
  return ports.map((p) => p.path);
}
