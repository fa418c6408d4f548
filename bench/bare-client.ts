import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
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

  /**
   * The durable bare client's file (one per terminal), opened O_APPEND|O_DSYNC:
   * a line before the request leaves and one once the answer is checked, each
   * on stable storage when its write returns (the same two durable writes a
   * ledger makes per sale). Absent: no writes (the bare client of old).
   */
  private fd: number | undefined;

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.check();
    });
  }

  static async open(path: string, options: { durableFile?: string } = {}): Promise<BareClient> {
    const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const client = new BareClient(port);
    if (options.durableFile !== undefined) {
      const { O_WRONLY, O_CREAT, O_APPEND, O_DSYNC } = fs.constants;
      client.fd = fs.openSync(options.durableFile, O_WRONLY | O_CREAT | O_APPEND | O_DSYNC, 0o600);
    }
    return client;
  }

  /** One durable line (off the event loop, in the thread pool), when this client is durable. */
  private durable(line: string): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fs.write(fd, `${line}\n`, (err) => (err ? reject(err) : resolve())));
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
    // Durable: the sale on disk before it leaves (beside the encoding, as the package does it).
    await this.durable(`{"referenceID":"${sale.referenceID}","state":"open"}`);
    const answer = new Promise<Buffer>((resolve) => {
      this.waiting = resolve;
    });
    if (pace !== 'none') await (pace === 'precise' ? preciseSleep : sleep)(wireMs(frame.length));
    await new Promise<void>((resolve, reject) =>
      this.port.write(frame, (err) => (err ? reject(err) : this.port.drain((e) => (e ? reject(e) : resolve())))),
    );
    const response = floorDecode(KEY, await answer);
    // Durable: the outcome on disk before it is reported.
    await this.durable(`{"referenceID":"${sale.referenceID}","state":"${String(response.body.status)}"}`);
    const ms = nowMs() - t0;
    if (response.body.status !== 'Success') throw new Error(`bare client sale: ${response.body.status}`);
    return { ms, requestBytes: frame.length };
  }

  close(): Promise<void> {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}
