import { deriveKey, WonderCipher } from '../lib/protocol/cipher';
import { encodeFrame } from '../lib/protocol/frame';
import { buildRequest, encodeRequest, type SaleParams } from '../lib/protocol/messages';
import { SimulatedTerminal, SIMULATOR_DEFAULT_PAIRING_CODE } from '../lib/simulator/terminal';

/** The messages every part of the benchmark uses: one Sale and its Success answer. */
export const PAIRING_CODE = SIMULATOR_DEFAULT_PAIRING_CODE;
export const KEY = deriveKey(PAIRING_CODE);
export const CLIENT_SN = 'NODE-RED-GW-0001';
export const REQUEST_ID = '7f3c2a9e-4b1d-4e8a-9c6f-2d5b8e1a0c47';
export const SALE: SaleParams & { amount: string; referenceID: string; customerOrderID: string } = {
  amount: '12.00',
  currency: 'HKD',
  referenceID: '0b6f5d2c-93a4-4c1e-8f7a-6e2d9b3c5a18',
  customerOrderID: 'ORDER-2025-000123',
};

export interface SaleFixture {
  /** The request frame exactly as the package sends it (fixed clock, for comparison). */
  requestFrame: Buffer;
  /** A Success response frame exactly as the simulator sends it. */
  responseFrame: Buffer;
  /** Its decrypted JSON plaintext (to size the peer's message like it). */
  responsePlaintext: string;
  requestPlaintext: string;
  fixedNow: Date;
}

/** Builds the Sale request and has the simulator answer it (card delay 0). */
export async function saleFixture(): Promise<SaleFixture> {
  const cipher = new WonderCipher(PAIRING_CODE);
  const fixedNow = new Date('2025-11-12T10:11:04Z');
  const request = buildRequest('Sale', SALE, { clientDeviceSN: CLIENT_SN, requestID: REQUEST_ID, now: fixedNow, utcOffsetMinutes: 0 });
  const envelope = encodeRequest(cipher, request);
  const terminal = new SimulatedTerminal({ cardDelayMs: 0 });
  const answer = await terminal.handle(envelope);
  terminal.stop();
  if (answer === null) throw new Error('the simulator did not answer the Sale');
  const responseFrame = encodeFrame(Buffer.from(answer, 'utf8'));
  const responsePlaintext = cipher.decrypt((JSON.parse(answer) as { data: string }).data).toString('utf8');
  if (!responsePlaintext.includes('"status":"Success"')) throw new Error(`the simulator did not approve the Sale: ${responsePlaintext}`);
  return { requestFrame: encodeFrame(Buffer.from(envelope, 'utf8')), responseFrame, responsePlaintext, requestPlaintext: request.plaintext, fixedNow };
}
