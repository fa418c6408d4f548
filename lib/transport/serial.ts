import { EventEmitter } from 'node:events';
import { SerialPort, type SerialPortOpenOptions } from 'serialport';
// Type only: the same package serialport's own typings import from.
import type { AutoDetectTypes, BindingInterface } from '@serialport/bindings-cpp';
import { type Clock, systemClock, type Timer } from '../clock';
import { CMD_FUNCTIONAL, encodeFrame, type Frame, FrameDecoder, type FrameDecoderStats, parseEnvelope, TransportError, ValidationError } from '../protocol';
import type { SendOptions, Transport, TransportState } from './transport';
import { serialBinding } from './serial-binding';

export interface SerialReconnectOptions {
  /** First delay before reopening a lost or unopenable port (ms). Default 500. */
  initialDelayMs?: number;
  /** Largest delay between attempts; the delay doubles up to it (ms). Default 10000. */
  maxDelayMs?: number;
}

export interface SerialTransportOptions {
  /** Device path, e.g. `/dev/ttyUSB0` or `COM3`. */
  path: string;
  /** Default 115200. */
  baudRate?: number;
  reconnect?: SerialReconnectOptions;
  /** Silence (ms) in the middle of a frame after which the partial frame is dropped. Default 1000. */
  interFrameTimeoutMs?: number;
  /** A serialport binding to use instead of the platform's (e.g. MockBinding in unit tests). */
  binding?: BindingInterface;
  /** The clock the reconnect back-off, the inter-frame silence and close()'s wait run on (default the system's). */
  clock?: Clock;
  /** Random source for the back-off's jitter (default Math.random). */
  random?: () => number;
}

/** How long close() waits for the port before giving up on it. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * The `serial` transport: RS232 frames (see frame.ts) on a serial port.
 *
 * - `open()` moves `closed` → `connecting` → `connected` and resolves. If the
 *   first open fails it REJECTS with a TransportError naming the path, and
 *   keeps retrying in the background (state `reconnecting`) until close().
 *   Callers that only watch `state` may ignore the rejection.
 * - A port that is lost later (device unplugged, read/write error) is closed
 *   and reopened with exponential backoff (initialDelayMs doubling up to
 *   maxDelayMs, ±25 % jitter, reset after a successful open). State
 *   `reconnecting` carries the error as the second `state` argument.
 * - `send()` never queues: it rejects with E_CLOSED unless `connected`, and
 *   sends in flight are rejected with E_CLOSED when the port is lost.
 * - Frames with a valid CRC and a valid envelope are emitted as `message`;
 *   noise, CRC failures, truncated frames (no byte for interFrameTimeoutMs
 *   in the middle of a frame), frames with another CMD and bodies that are
 *   not envelopes are reported as `discard` with a short reason.
 */
export class SerialTransport extends EventEmitter implements Transport {
  readonly kind = 'serial' as const;
  readonly path: string;
  private readonly baudRate: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly interFrameTimeoutMs: number;
  private readonly binding: BindingInterface | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;

  private current: TransportState = 'closed';
  /** True between open() and close(): the transport should be connected. */
  private wanted = false;
  /** Bumped on every new port and on close(); callbacks of older ports are ignored. */
  private generation = 0;
  private port: SerialPort | undefined;
  /** The open attempt in flight, settled when its open callback has run. */
  private attempt: Promise<void> | undefined;
  /** Closing of a lost port, still in progress. */
  private releasing: Promise<void> | undefined;
  private failures = 0;
  private reconnectTimer: Timer | undefined;
  private interFrameTimer: Timer | undefined;
  private readonly decoder = new FrameDecoder();
  /** Rejecters of sends in flight, called when the port goes away. */
  private readonly inFlight = new Set<(err: Error) => void>();

  constructor(options: SerialTransportOptions) {
    super();
    if (typeof options?.path !== 'string' || options.path.trim() === '') {
      throw new ValidationError('path', 'a serial port path is required');
    }
    this.path = options.path;
    this.baudRate = positive('baudRate', options.baudRate, 115200);
    this.initialDelayMs = positive('reconnect.initialDelayMs', options.reconnect?.initialDelayMs, 500);
    this.maxDelayMs = Math.max(this.initialDelayMs, positive('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, 10000));
    this.interFrameTimeoutMs = positive('interFrameTimeoutMs', options.interFrameTimeoutMs, 1000);
    this.binding = options.binding;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get state(): TransportState {
    return this.current;
  }

  /** What the line carried since this transport was made: frames decoded, bytes skipped, data CRC failures (live, cumulative). */
  get lineStats(): Readonly<FrameDecoderStats> {
    return this.decoder.stats;
  }

  /**
   * Opens the port. Resolves once connected; rejects if this attempt fails
   * (retries continue in the background). While already open it resolves at
   * once, or joins the attempt in flight, or (while waiting to retry) tries now.
   */
  open(): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    if (this.attempt) return this.attempt;
    if (!this.wanted) {
      this.wanted = true;
      this.failures = 0;
      this.setState('connecting');
    }
    this.clearReconnectTimer();
    return this.connect();
  }

  async close(): Promise<void> {
    this.wanted = false;
    this.generation++;
    this.clearReconnectTimer();
    this.clearInterFrameTimer();
    this.decoder.reset();
    this.failInFlight();
    const port = this.port;
    const attempt = this.attempt;
    const releasing = this.releasing;
    this.port = undefined;
    this.attempt = undefined;
    this.setState('closed');
    if (!port && !releasing) return;
    await withTimeout(
      (async () => {
        // An attempt in flight closes its own port once it sees it is stale.
        if (attempt) await attempt.catch(() => undefined);
        else if (port) await closePort(port);
        if (releasing) await releasing;
      })(),
      CLOSE_TIMEOUT_MS,
      this.clock,
    );
  }

  async send(envelope: string, options: SendOptions): Promise<void> {
    await this.writeRaw(encodeFrame(Buffer.from(envelope, 'utf8')), options?.signal);
  }

  /**
   * Writes bytes as they are (a frame, or deliberate noise): the simulator
   * uses it to play a faulty line. Resolves once the port has taken every
   * byte (in the kernel's output buffer, on its way down the line).
   *
   * It does not wait for the line to drain (tcdrain): that holds one of
   * libuv's four thread-pool threads for the frame's whole wire time (38 ms
   * for a 441-byte Sale at 115,200 baud, 460 ms at 9,600), and the journal's
   * fdatasyncs wait behind it. Nothing here needs it: the answer's timer runs
   * from the moment the request is handed over, and bytes the port has taken
   * may reach the terminal whatever happens next, so an error from here on is
   * never `notSent`.
   */
  async writeRaw(bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    const port = this.port;
    if (this.current !== 'connected' || !port) {
      throw new TransportError(`serial port ${this.path} is not connected`, { code: 'E_CLOSED', notSent: true });
    }
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        this.inFlight.delete(finish);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish(signal?.reason);
      const failed = (err: Error): void =>
        finish(new TransportError(`write to serial port ${this.path} failed: ${err.message}`, { cause: err }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.inFlight.add(finish);
      port.write(bytes, (err) => (err ? failed(err) : finish()));
    });
  }

  /** One open attempt on a fresh SerialPort. */
  private connect(): Promise<void> {
    const generation = ++this.generation;
    const port = this.createPort();
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (generation === this.generation) this.onData(chunk);
    });
    port.on('close', (err: Error | null) => {
      if (generation === this.generation) this.lost(port, err ?? new Error('port closed'));
    });
    port.on('end', () => {
      if (generation === this.generation) this.lost(port, new Error('port ended'));
    });
    // Always listened to, so a late error of an abandoned port never goes unhandled.
    port.on('error', (err: Error) => {
      if (generation === this.generation) this.lost(port, err);
    });

    const attempt = new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (this.attempt === attempt) this.attempt = undefined;
        if (generation !== this.generation || !this.wanted) {
          // close() (or a newer attempt) came first: give the port back.
          const closed = new TransportError(`serial port ${this.path} was closed while opening`, { code: 'E_CLOSED' });
          if (err) reject(closed);
          else void closePort(port).then(() => reject(closed));
          return;
        }
        if (err) {
          this.port = undefined;
          const error = new TransportError(`cannot open serial port ${this.path}: ${err.message}`, { cause: err });
          this.scheduleReconnect(error);
          reject(error);
          return;
        }
        this.failures = 0;
        this.decoder.reset();
        this.setState('connected');
        resolve();
      });
    });
    this.attempt = attempt;
    return attempt;
  }

  private createPort(): SerialPort {
    const options = { path: this.path, baudRate: this.baudRate, autoOpen: false };
    // SerialPort's typings omit `binding`, but it honours one given (it spreads the options over its default).
    const withBinding = { ...options, binding: this.binding ?? serialBinding() };
    return new SerialPort(withBinding as SerialPortOpenOptions<AutoDetectTypes>);
  }

  /** The current port closed or failed on its own. */
  private lost(port: SerialPort, cause: Error): void {
    if (port !== this.port || this.current !== 'connected') return;
    this.generation++;
    this.port = undefined;
    this.clearInterFrameTimer();
    this.decoder.reset();
    this.failInFlight();
    const releasing = closePort(port).then(() => {
      if (this.releasing === releasing) this.releasing = undefined;
    });
    this.releasing = releasing;
    this.scheduleReconnect(new TransportError(`serial port ${this.path} was lost: ${cause.message}`, { cause }));
  }

  private scheduleReconnect(error: Error): void {
    if (!this.wanted) return;
    this.setState('reconnecting', error);
    this.clearReconnectTimer();
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(this.failures, 30));
    const delay = Math.min(this.maxDelayMs, Math.round(base * (0.75 + this.random() * 0.5)));
    this.failures++;
    this.reconnectTimer = this.clock.setTimer(() => {
      this.reconnectTimer = undefined;
      if (this.wanted && !this.attempt) this.connect().catch(() => undefined);
    }, delay);
  }

  private onData(chunk: Buffer): void {
    const generation = this.generation;
    this.handleFrames(() => this.decoder.push(chunk));
    // A listener may have closed the transport meanwhile.
    if (generation !== this.generation) return;
    this.clearInterFrameTimer();
    if (this.decoder.midFrame) {
      this.interFrameTimer = this.clock.setTimer(() => this.onInterFrameTimeout(), this.interFrameTimeoutMs);
    }
  }

  /** The line went quiet in the middle of a frame: everything buffered is stale. */
  private onInterFrameTimeout(): void {
    this.interFrameTimer = undefined;
    const generation = this.generation;
    while (this.decoder.midFrame && generation === this.generation) {
      this.emit('discard', 'truncated frame (line quiet mid-frame)');
      this.handleFrames(() => this.decoder.dropPartial());
    }
  }

  /** Runs one decoder step, reports what it skipped, and emits its frames. */
  private handleFrames(step: () => Frame[]): void {
    const generation = this.generation;
    const { discardedBytes, dataCrcErrors } = this.decoder.stats;
    const frames = step();
    const crcErrors = this.decoder.stats.dataCrcErrors - dataCrcErrors;
    const skipped = this.decoder.stats.discardedBytes - discardedBytes;
    for (let i = 0; i < crcErrors; i++) this.emit('discard', 'frame data CRC mismatch');
    if (skipped > 0) this.emit('discard', `skipped ${skipped} byte(s) that are not a valid frame`);
    for (const frame of frames) {
      if (generation !== this.generation) return;
      if (frame.cmd !== CMD_FUNCTIONAL) {
        this.emit('discard', `frame with unexpected command 0x${frame.cmd.toString(16).padStart(4, '0')}`);
        continue;
      }
      let envelope;
      try {
        envelope = parseEnvelope(frame.data);
      } catch {
        this.emit('discard', 'frame data is not a valid envelope');
        continue;
      }
      this.emit('message', envelope);
    }
  }

  private failInFlight(): void {
    const error = new TransportError(`serial port ${this.path} closed before the write completed`, { code: 'E_CLOSED' });
    for (const fail of [...this.inFlight]) fail(error);
  }

  private clearReconnectTimer(): void {
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
  }

  private clearInterFrameTimer(): void {
    this.interFrameTimer?.cancel();
    this.interFrameTimer = undefined;
  }

  private setState(state: TransportState, error?: Error): void {
    if (state === this.current) return;
    this.current = state;
    if (error) this.emit('state', state, error);
    else this.emit('state', state);
  }
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(field, 'must be a positive number');
  }
  return value;
}

/** Closes a port if it is open; never rejects. */
function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}

/** Waits for `work`, but no longer than `ms`; leaves no timer behind. */
async function withTimeout(work: Promise<void>, ms: number, clock: Clock): Promise<void> {
  let timer: Timer | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = clock.setTimer(resolve, ms)))]);
  } finally {
    timer?.cancel();
  }
}
