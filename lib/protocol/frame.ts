import { crc32 } from './crc';
import { FrameError } from './errors';

/**
 * RS232 frame:
 * 0x55 | CMD u16 BE | DataSize u16 BE | Type 0x02 | HeaderCRC u32 BE | Data | DataCRC u32 BE
 */
export const FRAME_START = 0x55;
export const FRAME_TYPE = 0x02;
export const CMD_FUNCTIONAL = 0x0006;
export const HEADER_LENGTH = 10; // start, cmd, size, type, header CRC
export const TRAILER_LENGTH = 4; // data CRC
export const MAX_DATA_LENGTH = 0xffff;
export const MAX_FRAME_LENGTH = HEADER_LENGTH + MAX_DATA_LENGTH + TRAILER_LENGTH;

export interface Frame {
  cmd: number;
  type: number;
  data: Buffer;
}

export function encodeFrame(data: Uint8Array, cmd: number = CMD_FUNCTIONAL): Buffer {
  if (data.length > MAX_DATA_LENGTH) {
    throw new FrameError(`frame data is ${data.length} bytes; at most ${MAX_DATA_LENGTH} fit in one frame`);
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + data.length + TRAILER_LENGTH);
  out[0] = FRAME_START;
  out.writeUInt16BE(cmd, 1);
  out.writeUInt16BE(data.length, 3);
  out[5] = FRAME_TYPE;
  out.writeUInt32BE(crc32(out.subarray(0, 6)), 6);
  out.set(data, HEADER_LENGTH);
  out.writeUInt32BE(crc32(data), HEADER_LENGTH + data.length);
  return out;
}

export interface FrameDecoderStats {
  /** Frames handed out. */
  frames: number;
  /** Bytes skipped while looking for a valid header (noise, corrupt frames). */
  discardedBytes: number;
  /** Candidate frames whose header CRC passed but whose data CRC failed. */
  dataCrcErrors: number;
}

const INITIAL_CAPACITY = 4096;
const MAX_CAPACITY = 2 * MAX_FRAME_LENGTH;

/**
 * Streaming frame decoder. Feed it chunks of any size; it returns every
 * complete frame whose header CRC and data CRC both check, in order.
 * After noise or a corrupt frame it resumes at the next 0x55 that starts a
 * valid header. It holds at most one maximal frame plus the chunk being fed
 * (large chunks are taken in slices of one maximal frame).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.allocUnsafe(0);
  private start = 0;
  private end = 0;
  /** Total length of the candidate frame at `start`, once its header checked; 0 when none. */
  private need = 0;
  readonly stats: FrameDecoderStats = { frames: 0, discardedBytes: 0, dataCrcErrors: 0 };

  /** Bytes held, waiting for the rest of a frame. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** True while part of a frame (a checked header) is waiting for its data. */
  get midFrame(): boolean {
    return this.need > 0;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (chunk.length <= MAX_FRAME_LENGTH) {
      this.append(chunk);
      // Waiting for more of a frame whose header checked: nothing to scan yet.
      if (this.need === 0 || this.end - this.start >= this.need) this.scan(frames);
      return frames;
    }
    for (let off = 0; off < chunk.length; off += MAX_FRAME_LENGTH) {
      this.append(chunk.subarray(off, Math.min(chunk.length, off + MAX_FRAME_LENGTH)));
      this.scan(frames);
    }
    return frames;
  }

  /**
   * Gives up on the frame being waited for (the line went quiet mid-frame:
   * a truncated frame) and looks for a frame in what is buffered after its
   * start byte.
   */
  dropPartial(): Frame[] {
    const frames: Frame[] = [];
    if (this.end > this.start) {
      this.skip(1);
      this.scan(frames);
    }
    return frames;
  }

  reset(): void {
    this.stats.discardedBytes += this.end - this.start;
    this.start = this.end = this.need = 0;
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      const required = held + chunk.length;
      if (required > this.buf.length) {
        let capacity = Math.max(INITIAL_CAPACITY, this.buf.length);
        while (capacity < required) capacity *= 2;
        const next = Buffer.allocUnsafe(Math.min(capacity, MAX_CAPACITY));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      } else {
        this.buf.copy(this.buf, 0, this.start, this.end);
      }
      this.start = 0;
      this.end = held;
    }
    if (chunk.length < 16) {
      // Byte-sized chunks (a slow line): a plain loop beats TypedArray.set.
      for (let i = 0; i < chunk.length; i++) this.buf[this.end + i] = chunk[i]!;
    } else {
      this.buf.set(chunk, this.end);
    }
    this.end += chunk.length;
  }

  private skip(n: number): void {
    this.start += n;
    this.stats.discardedBytes += n;
    this.need = 0;
  }

  private scan(out: Frame[]): void {
    const buf = this.buf;
    for (;;) {
      if (this.need === 0) {
        const at = buf.indexOf(FRAME_START, this.start);
        if (at < 0 || at >= this.end) {
          this.skip(this.end - this.start);
          this.start = this.end = 0;
          return;
        }
        if (at > this.start) this.skip(at - this.start);
        if (this.end - this.start < HEADER_LENGTH) return;
        const s = this.start;
        if (buf[s + 5] !== FRAME_TYPE || crc32(buf.subarray(s, s + 6)) !== buf.readUInt32BE(s + 6)) {
          this.skip(1);
          continue;
        }
        this.need = HEADER_LENGTH + buf.readUInt16BE(s + 3) + TRAILER_LENGTH;
      }
      if (this.end - this.start < this.need) return;
      const s = this.start;
      const dataEnd = s + this.need - TRAILER_LENGTH;
      const data = buf.subarray(s + HEADER_LENGTH, dataEnd);
      if (crc32(data) !== buf.readUInt32BE(dataEnd)) {
        this.stats.dataCrcErrors++;
        this.skip(1);
        continue;
      }
      out.push({ cmd: buf.readUInt16BE(s + 1), type: buf[s + 5]!, data: Buffer.from(data) });
      this.stats.frames++;
      this.start += this.need;
      this.need = 0;
    }
  }
}
