import * as zlib from 'node:zlib';

/**
 * CRC-32 (ISO-HDLC, the zlib one) of `data`, as an unsigned 32-bit number.
 * The frame writes it big-endian.
 */
export function crc32(data: Uint8Array): number {
  return zlib.crc32(data) >>> 0;
}
