import type { SerialTransport } from '../lib/transport/serial';
import { nowMs } from './stats';

/** The RS232 line the benchmark plays: 115,200 baud, 8N1 (10 bits a byte). */
export const BAUD = 115_200;

export function wireMs(bytes: number, baud = BAUD): number {
  return (bytes * 10 * 1000) / baud;
}

/** Sleeps `ms` to within a few microseconds: a timer for the bulk, then turns of the event loop. */
export function preciseSleep(ms: number): Promise<void> {
  const until = nowMs() + ms;
  return new Promise((resolve) => {
    const spin = () => (nowMs() >= until ? resolve() : setImmediate(spin));
    if (ms > 2) setTimeout(spin, ms - 2);
    else spin();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ByteCounter {
  bytes: number;
  writes: number;
}

/**
 * Counts what a serial transport writes and, with a baud rate, holds each
 * write for its time on the line first: a pty has no baud rate, and
 * serveSerial's `paceBaud` only paces the terminal's side. This plays the
 * ECR's side of the wire. Only this instance's method is wrapped.
 */
export function meterWrites(transport: SerialTransport, pace?: { baud: number; precise: boolean }): ByteCounter {
  const counter: ByteCounter = { bytes: 0, writes: 0 };
  const write = transport.writeRaw.bind(transport);
  transport.writeRaw = async (bytes: Uint8Array, signal?: AbortSignal) => {
    counter.bytes += bytes.length;
    counter.writes++;
    if (pace !== undefined) await (pace.precise ? preciseSleep : sleep)(wireMs(bytes.length, pace.baud));
    return write(bytes, signal);
  };
  return counter;
}
