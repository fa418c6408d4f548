import { emptyLineCounters, errorCodesOf, linkCause, type LineCounters, type TransportState } from '../transport';
import { UNDECRYPTABLE_GRACE_MS } from './exchange';

/**
 * Why a terminal does not work, in one word a technician can act on:
 *
 * - `no-valid-frames`: bytes arrive but no valid frame (check the baud rate and the cable);
 * - `undecryptable`: frames arrive but do not decrypt (check the pairing code);
 * - `port-gone`: the serial port is not there (unplugged, renamed);
 * - `port-unavailable`: the port is there but cannot be opened (in use, no permission);
 * - `host-unreachable`, `host-refused`, `host-not-found`: a LAN or cloud host;
 * - `tls-refused`, `http-error`, `gateway-error`: the HTTPS link or the cloud gateway;
 * - `no-answer`: the line is there, nothing comes back;
 * - `terminal-busy`: the terminal answered that it is busy.
 */
export type DiagnosisCode =
  | 'no-valid-frames'
  | 'undecryptable'
  | 'port-gone'
  | 'port-unavailable'
  | 'host-unreachable'
  | 'host-refused'
  | 'host-not-found'
  | 'tls-refused'
  | 'http-error'
  | 'gateway-error'
  | 'no-answer'
  | 'terminal-busy';

export const DIAGNOSIS_CODES: readonly DiagnosisCode[] = [
  'no-valid-frames',
  'undecryptable',
  'port-gone',
  'port-unavailable',
  'host-unreachable',
  'host-refused',
  'host-not-found',
  'tls-refused',
  'http-error',
  'gateway-error',
  'no-answer',
  'terminal-busy',
];

/** A terminal's diagnosis as the operator tools show it (texts: i18n keys `diagnosis.<code>`). */
export interface Diagnosis {
  code: DiagnosisCode;
  /** ISO time the fault was first seen. */
  since: string;
  /** E.g. the serial ports that are there, for `port-gone`. */
  detail?: string;
}

/** The sliding window over which noise is judged. */
export const DIAGNOSIS_WINDOW_MS = 10_000;
/** Bytes that are not a frame, within the window and since the last valid frame, that name a bad line (fewer are a glitch). */
export const NOISE_BYTES_FAULT = 32;
/** Frames with a bad data CRC, likewise. */
export const CRC_ERRORS_FAULT = 2;
/** Noise is judged once this long has passed without a valid frame (a frame is often just behind its noise). */
export const NOISE_QUIET_MS = 1_000;

/** The last whole message the terminal sent: a decrypted answer, one that did not decrypt, or a busy answer. */
export type Heard = 'answer' | 'undecryptable' | 'busy';

/** What the diagnosis reads: plain facts, no I/O. */
export interface LineFacts {
  /** A stream link (serial): frames can be garbled; HTTP replies cannot. */
  stream: boolean;
  transport: TransportState;
  /** The link's last failure as faultOfError() reads it; cleared by anything heard from the terminal. */
  linkFault?: DiagnosisCode;
  /** Counters gained since the later of the window's start and the last valid frame (see CounterWindow). */
  recent: LineCounters;
  /** Milliseconds since the last valid frame (Infinity: none yet). */
  sinceFrameMs: number;
  /** The last whole message heard, and how long ago. */
  lastHeard?: { what: Heard; agoMs: number };
  /** The diagnosis in force, and the valid frames received since it was made. */
  previous?: { code: DiagnosisCode; framesSince: number };
}

const PORT_GONE_CODES = new Set(['ENOENT', 'ENODEV', 'ENXIO', 'EIO']);
const UNREACHABLE_CODES = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/** The fault a transport or time-out error names, on a stream (serial) link or an HTTP one. */
export function faultOfError(err: unknown, stream: boolean): DiagnosisCode | undefined {
  const codes = errorCodesOf(err);
  const message = err instanceof Error ? err.message : '';
  switch (linkCause(err)) {
    case 'refused':
      return stream ? 'port-gone' : 'host-refused';
    case 'host':
      return 'host-not-found';
    case 'tls':
      return 'tls-refused';
    case 'http':
      return 'http-error';
    case 'gateway':
      return 'gateway-error';
    case 'timeout':
      return codes.some((c) => UNREACHABLE_CODES.has(c)) ? 'host-unreachable' : 'no-answer';
    case 'port':
      return codes.some((c) => PORT_GONE_CODES.has(c)) || /No such file|not found|was lost/i.test(message) ? 'port-gone' : 'port-unavailable';
    default:
      // A serial port that went away (closed under us, read error): gone until it opens again.
      return stream && /was lost|cannot open serial port/i.test(message) ? 'port-gone' : undefined;
  }
}

/**
 * The cause, from the facts, in order: the port or host itself; answers
 * that do not decrypt; bytes that make no frame; the terminal busy; no
 * answer at all. A fault stays until its evidence of recovery: the link
 * back, a decrypted answer, a valid frame, an answer that is not busy.
 */
export function diagnose(f: LineFacts): DiagnosisCode | undefined {
  if (f.linkFault !== undefined && f.linkFault !== 'no-answer') return f.linkFault;
  if (f.transport === 'closed' || f.transport === 'connecting') return undefined;
  const heard = f.lastHeard;
  if (heard?.what === 'undecryptable') {
    // On a stream the genuine answer may follow a stray that did not decrypt: judged after the exchange's grace.
    if (f.previous?.code === 'undecryptable' || !f.stream || heard.agoMs >= UNDECRYPTABLE_GRACE_MS) return 'undecryptable';
  }
  if (f.stream) {
    if (f.previous?.code === 'no-valid-frames' && f.previous.framesSince === 0) return 'no-valid-frames';
    if ((f.recent.noiseBytes >= NOISE_BYTES_FAULT || f.recent.crcErrors >= CRC_ERRORS_FAULT) && f.sinceFrameMs >= NOISE_QUIET_MS) return 'no-valid-frames';
  }
  if (heard?.what === 'busy') return 'terminal-busy';
  return f.linkFault;
}

const FIELDS = Object.keys(emptyLineCounters()) as Array<keyof LineCounters>;

function minus(a: LineCounters, b: LineCounters): LineCounters {
  const out = emptyLineCounters();
  for (const k of FIELDS) out[k] = a[k] - b[k];
  return out;
}

/**
 * The sliding window over a terminal's (cumulative) counters: one sample a
 * tick, and the counters at the last valid frame. What it reports is judged
 * on what had come by the sample before the last one, with no valid frame
 * since (a frame often follows its noise by a moment: never a fault for
 * that). Keeps a fixed number of samples; costs nothing per frame.
 */
export class CounterWindow {
  private readonly samples: Array<{ at: number; counters: LineCounters }> = [];
  private atFrame: { at: number; counters: LineCounters } | undefined;

  constructor(private readonly windowMs = DIAGNOSIS_WINDOW_MS) {}

  /** Takes a sample of the counters at `now` (ms); returns the facts the diagnosis reads from them. */
  sample(now: number, counters: LineCounters): { recent: LineCounters; sinceFrameMs: number } {
    const copy = { ...counters };
    const last = this.samples.at(-1);
    if (copy.framesReceived > (last?.counters.framesReceived ?? 0)) this.atFrame = { at: now, counters: copy };
    this.samples.push({ at: now, counters: copy });
    // The oldest sample kept is the last one at or before the window's start.
    while (this.samples.length > 2 && this.samples[1]!.at <= now - this.windowMs) this.samples.shift();
    const sinceFrameMs = this.atFrame === undefined ? Number.POSITIVE_INFINITY : now - this.atFrame.at;
    const settled = this.samples.at(-2);
    if (settled === undefined || (this.atFrame !== undefined && this.atFrame.at >= settled.at)) return { recent: emptyLineCounters(), sinceFrameMs };
    const start = this.samples[0]!;
    const base = this.atFrame !== undefined && this.atFrame.at > start.at ? this.atFrame.counters : start.counters;
    return { recent: minus(settled.counters, base), sinceFrameMs };
  }
}
