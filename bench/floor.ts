import { createCipheriv, createDecipheriv } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The bare floor: the same bytes as the package, written inline with
 * node:crypto, JSON and zlib.crc32, with no validation and no abstraction.
 * What is left is the irreducible work of one message.
 */
const ZERO_IV = Buffer.alloc(16);

export interface FloorSale {
  referenceID: string;
  customerOrderID: string;
  currency: string;
  amount: string;
}

export function floorEncode(key: Buffer, requestID: string, clientDeviceSN: string, sale: FloorSale, now: Date): Buffer {
  const timestamp = `${now.toISOString().slice(0, 19)}+00:00`;
  const body = { referenceID: sale.referenceID, customerOrderID: sale.customerOrderID, currency: sale.currency, amount: sale.amount };
  const plaintext = JSON.stringify({ header: { requestID, clientDeviceSN, timestamp }, body });
  const cipher = createCipheriv('aes-256-cbc', key, ZERO_IV);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
  const envelope = Buffer.from(JSON.stringify({ version: '2.0', action: 'Sale', data }), 'utf8');
  const out = Buffer.allocUnsafe(14 + envelope.length);
  out[0] = 0x55;
  out.writeUInt16BE(6, 1);
  out.writeUInt16BE(envelope.length, 3);
  out[5] = 0x02;
  out.writeUInt32BE(crc32(out.subarray(0, 6)) >>> 0, 6);
  envelope.copy(out, 10);
  out.writeUInt32BE(crc32(envelope) >>> 0, 10 + envelope.length);
  return out;
}

export interface FloorResponse {
  header: { responseID: string };
  body: { status: string };
}

/** Checks the frame and both CRCs, parses, decrypts, and checks the answer's responseID and status. */
export function floorDecode(key: Buffer, frame: Buffer): FloorResponse {
  if (frame[0] !== 0x55 || frame[5] !== 0x02 || crc32(frame.subarray(0, 6)) >>> 0 !== frame.readUInt32BE(6)) throw new Error('bad header');
  const length = frame.readUInt16BE(3);
  const data = frame.subarray(10, 10 + length);
  if (crc32(data) >>> 0 !== frame.readUInt32BE(10 + length)) throw new Error('bad data CRC');
  const envelope = JSON.parse(data.toString('utf8')) as { version: unknown; action: unknown; data: unknown };
  if (typeof envelope.action !== 'string' || typeof envelope.data !== 'string') throw new Error('bad envelope');
  const decipher = createDecipheriv('aes-256-cbc', key, ZERO_IV);
  const plain = JSON.parse(Buffer.concat([decipher.update(envelope.data, 'base64'), decipher.final()]).toString('utf8')) as FloorResponse;
  if (typeof plain.header?.responseID !== 'string' || typeof plain.body?.status !== 'string') throw new Error('bad response');
  return plain;
}
