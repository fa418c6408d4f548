import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  WonderCipher,
  buildRequest,
  deriveKey,
  encodeFrame,
  FrameDecoder,
  parseEnvelope,
  parseResponse,
  SecurityError,
  isAction,
  type Action,
} from '../lib';

interface VectorEnvelope {
  seed: string;
  action: string;
  versionField: string | number;
  data: string;
  pairingCode: string | null;
  direction: 'request' | 'response' | null;
  plaintext: string | null;
}
interface Vectors {
  key_derivation: { pairingCode: string; aes256KeyHex: string };
  envelopes: VectorEnvelope[];
  rs232_frame: { hex: string; cmd: number; dataSize: number; type: number; headerCrcHex: string; dataCrcHex: string; dataUtf8: string };
}

// Copied from ../shared/protocol/wonder-vectors.json so a clean clone has it.
const vectors: Vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'wonder-vectors.json'), 'utf8'),
);

describe('seed vectors', () => {
  it('has all 22 envelopes, 18 with the known pairing code', () => {
    assert.equal(vectors.envelopes.length, 22);
    assert.equal(vectors.envelopes.filter((v) => v.pairingCode !== null).length, 18);
  });

  it('derives the documented key from the pairing code', () => {
    assert.equal(deriveKey(vectors.key_derivation.pairingCode).toString('hex'), vectors.key_derivation.aes256KeyHex);
  });

  const known = vectors.envelopes.filter((v) => v.pairingCode !== null);
  for (const [i, v] of known.entries()) {
    it(`#${i} ${v.action} ${v.direction}: decrypts to the exact plaintext and re-encrypts to the exact ciphertext`, () => {
      const cipher = new WonderCipher(v.pairingCode!);
      assert.equal(cipher.decrypt(v.data).toString('utf8'), v.plaintext);
      assert.equal(cipher.encrypt(v.plaintext!), v.data);
    });
    it(`#${i} ${v.action} ${v.direction}: parses as an envelope and as a typed message`, () => {
      const env = parseEnvelope(JSON.stringify({ version: v.versionField, action: v.action, data: v.data }));
      assert.equal(env.action, v.action);
      const plain = new WonderCipher(v.pairingCode!).decryptJson(env.data) as { header: Record<string, string> };
      assert.ok(isAction(v.action));
      if (v.direction === 'response') {
        const res = parseResponse(v.action as Action, plain);
        assert.equal(typeof res.header.responseID, 'string');
      } else {
        assert.equal(typeof plain.header.requestID, 'string');
      }
    });
  }

  it('every request builder reproduces the seed plaintext byte for byte', () => {
    const requests = known.filter((v) => v.direction === 'request');
    assert.equal(requests.length, 8);
    for (const v of requests) {
      const plain = JSON.parse(v.plaintext!) as { header: { requestID: string; clientDeviceSN: string; timestamp: string }; body?: Record<string, string> };
      const req = buildRequest(v.action as Action, (plain.body ?? {}) as never, {
        clientDeviceSN: plain.header.clientDeviceSN,
        requestID: plain.header.requestID,
        now: new Date(plain.header.timestamp),
        utcOffsetMinutes: 0,
      });
      assert.equal(req.plaintext, v.plaintext, v.action);
      assert.equal(new WonderCipher(v.pairingCode!).encrypt(req.plaintext), v.data, v.action);
    }
  });

  const unknown = vectors.envelopes.filter((v) => v.pairingCode === null);
  for (const [i, v] of unknown.entries()) {
    it(`unknown-code #${i} ${v.action} parses as an envelope, and the seed key refuses it as a security error`, () => {
      const env = parseEnvelope(JSON.stringify({ version: v.versionField, action: v.action, data: v.data }));
      assert.equal(env.data, v.data);
      assert.throws(() => new WonderCipher('260880').decryptJson(env.data), SecurityError);
    });
  }

  it('the RS232 frame of seed 000 encodes byte for byte and decodes back', () => {
    const f = vectors.rs232_frame;
    const frame = encodeFrame(Buffer.from(f.dataUtf8, 'utf8'), f.cmd);
    assert.equal(frame.toString('hex').toUpperCase(), f.hex.toUpperCase());
    assert.equal(frame.readUInt16BE(3), f.dataSize);
    assert.equal(frame.subarray(6, 10).toString('hex'), f.headerCrcHex);
    assert.equal(frame.subarray(frame.length - 4).toString('hex'), f.dataCrcHex);
    const decoded = new FrameDecoder().push(Buffer.from(f.hex, 'hex'));
    assert.equal(decoded.length, 1);
    assert.equal(decoded[0]!.cmd, f.cmd);
    assert.equal(decoded[0]!.type, f.type);
    assert.equal(decoded[0]!.data.toString('utf8'), f.dataUtf8);
    assert.equal(parseEnvelope(decoded[0]!.data).action, 'DeviceInfo');
  });
});
