import { WonderCipher } from '../lib/protocol/cipher';
import { parseEnvelope } from '../lib/protocol/envelope';
import { CMD_FUNCTIONAL, encodeFrame, FrameDecoder } from '../lib/protocol/frame';
import { buildBody, buildRequest, encodeRequest, parseResponse, requestOf, type Response, type ResponseHeader } from '../lib/protocol/messages';
import { adyenPeer } from './adyen';
import { CLIENT_SN, KEY, PAIRING_CODE, REQUEST_ID, SALE, saleFixture } from './fixtures';
import { floorDecode, floorEncode } from './floor';
import { timeCases, type CaseResult } from './timing';

/** Part 1: encode and decode of one Sale, the package beside the bare floor and Adyen's NexoSecurityManager. */
export interface MicroResult {
  rounds: number;
  usPerOp: Record<string, number>;
  bytes: Record<string, number>;
}

export const MICRO_ROUNDS = 21;

export async function runMicro(): Promise<MicroResult> {
  const fx = await saleFixture();
  const cipher = new WonderCipher(PAIRING_CODE);

  // The floor writes byte for byte what the package writes.
  const floorSame = floorEncode(KEY, REQUEST_ID, CLIENT_SN, SALE, fx.fixedNow);
  if (!floorSame.equals(fx.requestFrame)) throw new Error('the bare floor does not write the same frame as the package');

  const packageEncode = () =>
    encodeFrame(Buffer.from(encodeRequest(cipher, buildRequest('Sale', SALE, { clientDeviceSN: CLIENT_SN, requestID: REQUEST_ID })), 'utf8'));
  // What TerminalSession does per Sale: request() validates the body once (buildBody),
  // the exchange makes the request of it (requestOf); then the transport frames it.
  const sessionEncode = () => {
    const body = buildBody('Sale', SALE);
    const request = requestOf('Sale', body, CLIENT_SN, { requestID: REQUEST_ID });
    return encodeFrame(Buffer.from(encodeRequest(cipher, request), 'utf8'));
  };
  const decoder = new FrameDecoder();
  const packageDecode = (): Response<'Sale'> => {
    const frame = decoder.push(fx.responseFrame)[0];
    if (frame === undefined || frame.cmd !== CMD_FUNCTIONAL) throw new Error('no frame');
    // As the session's exchange reads an answer: strict decrypt (UUID responseID checked there), then the body.
    const plain = cipher.decryptResponse(parseEnvelope(frame.data).data);
    const response = parseResponse('Sale', plain, plain.header as ResponseHeader);
    if (response.body.status !== 'Success') throw new Error('not Success');
    return response;
  };
  const floorDec = () => {
    const r = floorDecode(KEY, fx.responseFrame);
    if (r.body.status !== 'Success') throw new Error('not Success');
    return r;
  };
  const adyen = adyenPeer(SALE.referenceID, '2025-11-12T10:11:04+00:00');
  packageDecode();
  adyen.decode(adyen.responseWire);

  const results = timeCases(
    [
      { name: 'packageEncode', run: packageEncode },
      { name: 'floorEncode', run: () => floorEncode(KEY, REQUEST_ID, CLIENT_SN, SALE, new Date()) },
      { name: 'adyenEncode', run: adyen.encode },
      { name: 'packageDecode', run: packageDecode },
      { name: 'floorDecode', run: floorDec },
      { name: 'adyenDecode', run: () => adyen.decode(adyen.responseWire) },
      { name: 'sessionEncode', run: sessionEncode },
      { name: 'adyenEncryptOnly', run: adyen.encryptOnly },
      { name: 'adyenDecryptOnly', run: adyen.decryptOnly },
    ],
    { rounds: MICRO_ROUNDS, batchMs: 40 },
  );
  const usPerOp = Object.fromEntries(results.map((r: CaseResult) => [r.name, r.usPerOp]));
  return {
    rounds: MICRO_ROUNDS,
    usPerOp,
    bytes: {
      requestFrame: fx.requestFrame.length,
      responseFrame: fx.responseFrame.length,
      requestPlaintext: Buffer.byteLength(fx.requestPlaintext),
      responsePlaintext: Buffer.byteLength(fx.responsePlaintext),
      adyenRequestPlaintext: adyen.requestPlaintextBytes,
      adyenResponsePlaintext: adyen.responsePlaintextBytes,
      adyenRequestWire: Buffer.byteLength(adyen.encode()),
      adyenResponseWire: Buffer.byteLength(adyen.responseWire),
    },
  };
}
