import { randomUUID } from 'node:crypto';
import { SerialPort } from 'serialport';
import { CLIENT_SN, KEY, SALE } from './fixtures';
import { floorDecode, floorEncode } from './floor';
import { preciseSleep, sleep, wireMs } from './line';
import { nowMs } from './stats';

/**
 * The least an ECR can do for a sale over the same line: the bare floor's
 * encode, the write held for its wire time, a read of the answer frame and
 * the bare floor's decode. No session, no journal, no Node-RED.
 */
export class BareClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | undefined;

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.check();
    });
  }

  static async open(path: string): Promise<BareClient> {
    const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new BareClient(port);
  }

  private check(): void {
    if (this.waiting === undefined || this.buf.length < 10) return;
    const size = 14 + this.buf.readUInt16BE(3);
    if (this.buf.length < size) return;
    const frame = this.buf.subarray(0, size);
    this.buf = this.buf.subarray(size);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting(frame);
  }

  /**
   * One sale; the time from building the request to the checked answer. The
   * write is held for its wire time: to the microsecond, by a plain timer
   * (as meterWrites does for many terminals), or not at all.
   */
  async sale(pace: 'precise' | 'timer' | 'none' = 'precise'): Promise<{ ms: number; requestBytes: number }> {
    const t0 = nowMs();
    const sale = { referenceID: randomUUID(), customerOrderID: SALE.customerOrderID, currency: SALE.currency, amount: SALE.amount };
    const frame = floorEncode(KEY, randomUUID(), CLIENT_SN, sale, new Date());
    const answer = new Promise<Buffer>((resolve) => {
      this.waiting = resolve;
    });
    if (pace !== 'none') await (pace === 'precise' ? preciseSleep : sleep)(wireMs(frame.length));
    await new Promise<void>((resolve, reject) =>
      this.port.write(frame, (err) => (err ? reject(err) : this.port.drain((e) => (e ? reject(e) : resolve())))),
    );
    const response = floorDecode(KEY, await answer);
    const ms = nowMs() - t0;
    if (response.body.status !== 'Success') throw new Error(`bare client sale: ${response.body.status}`);
    return { ms, requestBytes: frame.length };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}
