import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecurityError, WonderCipher } from '../../lib';

// The seed vectors under their pairing code, and the checks the strict-decoding
// tests share (strict-decoding.test.ts and the sweeps beside it).
interface Vector {
  action: string;
  data: string;
  pairingCode: string | null;
  direction: string | null;
  plaintext: string | null;
}
export const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'wonder-vectors.json'), 'utf8')) as { envelopes: Vector[] };

export const PIN = '260880';
export const cipher = new WonderCipher(PIN);
export const known = vectors.envelopes.filter((e) => e.pairingCode === PIN && e.plaintext !== null);
export const responses = known.filter((e) => e.direction === 'response');
export const requests = known.filter((e) => e.direction === 'request');
export const UUID_A = '5debf769-49d7-4c9b-b6f4-8a9d90e1a874';

export function encryptText(text: string | Buffer): string {
  return cipher.encrypt(text);
}

export function isSecurityError(err: unknown): boolean {
  assert.ok(err instanceof SecurityError, `expected a SecurityError, got ${String(err)}`);
  assert.equal(err.code, 'E_SECURITY');
  return true;
}

/**
 * For the exhaustive sweeps: each of their hundreds of thousands of rejections throws, and capturing the
 * errors' stacks was half their time. No stacks while the suite runs (an assertion that fails still names
 * the variant in its message); the limit is put back after it (mocha's workers run other files next).
 */
export function noStackTracesInThisSuite(): void {
  let saved = Error.stackTraceLimit;
  before(() => {
    saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  after(() => {
    Error.stackTraceLimit = saved;
  });
}

/** Every ciphertext with one byte changed to each of the 255 other values (all single-bit flips among them). */
export function* everyOneByteChange(data: string): Generator<{ index: number; delta: number; data: string }> {
  const raw = Buffer.from(data, 'base64');
  for (let index = 0; index < raw.length; index++) {
    for (let delta = 1; delta < 256; delta++) {
      const copy = Buffer.from(raw);
      copy[index] ^= delta;
      yield { index, delta, data: copy.toString('base64') };
    }
  }
}

/** What the package read before strict decoding: any JSON with a string responseID. */
export function laxRead(data: string): { header: { responseID: string }; body?: { status?: unknown } } | undefined {
  try {
    const plain = JSON.parse(cipher.decrypt(data).toString('utf8')) as { header?: { responseID?: unknown } };
    return typeof plain?.header?.responseID === 'string' ? (plain as { header: { responseID: string } }) : undefined;
  } catch {
    return undefined;
  }
}

