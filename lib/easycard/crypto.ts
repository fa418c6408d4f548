/**
 * Request and response encryption of intella's Scan2Pay "general" API.
 *
 * Scan2Pay's published general rules, as in intella's own PHP sample:
 * - every request gets a fresh random AES-128 key (16 random bytes);
 * - the request JSON is AES-128-CBC encrypted, PKCS#5/7 padding, with the IV
 *   that intella supplies: a 16-character ASCII string whose characters are
 *   the IV's bytes (e.g. `8651731586517315`);
 * - the AES key's BASE64 TEXT (e.g. `Y3UJ147HKIYRT8Ovrsik0A==`), not its raw
 *   bytes, is RSA encrypted (PKCS#1 v1.5) with intella's public key;
 * - the body sent is `{"Request":"<base64 ciphertext>","ApiKey":"<base64 RSA>"}`;
 * - the reply is `{"Response":"<base64>"}`, AES encrypted with the same key and
 *   IV; before decoding it, `\n` is removed and `\u003d` turned into `=`.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { describeValue, ValidationError } from '../protocol';
import { EasyCardError } from './errors';

export const SCAN2PAY_AES_ALGORITHM = 'aes-128-cbc';
const AES_KEY_BYTES = 16;
const IV_BYTES = 16;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Lowercase SHA-256 hex of a UTF-8 string: how Scan2Pay wants TradeKey (and RefundKey). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The IV as intella gives it: exactly 16 ASCII characters, used as the IV's
 * 16 bytes. The value is not echoed in the error (it is part of the merchant's
 * credentials).
 */
export function parseAesIv(value: unknown, field = 'aesIv'): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, `the AES IV is required (the 16-character string intella supplies), got ${value === undefined || value === null || value === '' ? describeValue(value) : `a ${typeof value}`}`);
  }
  if (!PRINTABLE_ASCII.test(value)) {
    throw new ValidationError(field, 'the AES IV must be 16 plain ASCII characters (as intella supplies it, e.g. 16 digits)');
  }
  if (value.length !== IV_BYTES) {
    throw new ValidationError(field, `the AES IV must be exactly 16 characters (16 bytes), got ${value.length}`);
  }
  return Buffer.from(value, 'ascii');
}

/**
 * intella's RSA public key. Accepts a PEM ("-----BEGIN PUBLIC KEY-----" or
 * "-----BEGIN RSA PUBLIC KEY-----"), also when pasted with literal `\n`
 * sequences instead of line breaks, or the bare base64 of an SPKI DER key.
 */
export function parseRsaPublicKey(value: unknown, field = 'rsaPublicKey'): KeyObject {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError(field, `intella's RSA public key (PEM) is required, got ${typeof value === 'string' ? 'an empty string' : describeValue(value)}`);
  }
  const text = value.trim().replace(/\\r/g, '').replace(/\\n/g, '\n').replace(/\r\n?/g, '\n');
  if (/PRIVATE KEY/.test(text)) {
    throw new ValidationError(field, 'this is a private key; paste the RSA PUBLIC key that intella supplies');
  }
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN')) {
      key = createPublicKey({ key: text, format: 'pem' });
    } else {
      const compact = text.replace(/\s+/g, '');
      if (!BASE64.test(compact) || compact.length % 4 !== 0) throw new Error('not base64');
      key = createPublicKey({ key: Buffer.from(compact, 'base64'), format: 'der', type: 'spki' });
    }
  } catch (err) {
    const e = new ValidationError(field, 'is not a readable public key: expected a PEM block starting with "-----BEGIN PUBLIC KEY-----"');
    (e as { cause?: unknown }).cause = err;
    throw e;
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ValidationError(field, `must be an RSA public key, got a ${String(key.asymmetricKeyType)} key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < 1024) {
    throw new ValidationError(field, `the RSA key is too short (${bits} bits); expected at least 1024`);
  }
  return key;
}

export interface EncryptedRequest {
  /** What is POSTed (as JSON). */
  body: { Request: string; ApiKey: string };
  /** The AES key of this request: the reply is decrypted with it. Keep it private. */
  key: Buffer;
}

/**
 * Encrypt one request. `key` is for tests only; leave it out and a fresh random
 * AES-128 key is made, as Scan2Pay requires.
 */
export function encryptRequest(plaintext: string, publicKey: KeyObject, iv: Buffer, key: Buffer = randomBytes(AES_KEY_BYTES)): EncryptedRequest {
  if (key.length !== AES_KEY_BYTES) throw new ValidationError('key', `the AES key must be 16 bytes, got ${key.length}`);
  if (iv.length !== IV_BYTES) throw new ValidationError('aesIv', `the AES IV must be 16 bytes, got ${iv.length}`);
  try {
    const cipher = createCipheriv(SCAN2PAY_AES_ALGORITHM, key, iv);
    const request = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
    const apiKey = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(key.toString('base64'), 'ascii'),
    ).toString('base64');
    return { body: { Request: request, ApiKey: apiKey }, key };
  } catch (err) {
    throw new EasyCardError('E_EASYCARD_ENCRYPT', 'encrypting the request failed (check rsaPublicKey)', { cause: err, delivery: 'not-sent' });
  }
}

/**
 * Scan2Pay's reply text as base64: line breaks removed (real ones and literal
 * `\n` sequences) and `\u003d` turned into `=` (whether the JSON escape was
 * already decoded or the six characters arrived literally).
 */
export function normalizeResponseBase64(text: string): string {
  return text
    .replace(/\\u003d/gi, '=')
    .replace(/\\[nr]/g, '')
    .replace(/\s+/g, '');
}

/** Decrypt a reply's `Response` field to its UTF-8 text. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

export function decryptResponseField(response: string, key: Buffer, iv: Buffer): string {
  const b64 = normalizeResponseBase64(response);
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) {
    throw new EasyCardError('E_EASYCARD_DECRYPT', 'decrypting the reply failed: its Response field is not base64', { delivery: 'received' });
  }
  const data = Buffer.from(b64, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new EasyCardError('E_EASYCARD_DECRYPT', `decrypting the reply failed: ${data.length} bytes of ciphertext is not a whole number of AES blocks`, { delivery: 'received' });
  }
  try {
    const decipher = createDecipheriv(SCAN2PAY_AES_ALGORITHM, key, iv);
    // Under a wrong key the padding is still valid about once in 256 tries: what comes out must also be UTF-8.
    return STRICT_UTF8.decode(Buffer.concat([decipher.update(data), decipher.final()]));
  } catch (err) {
    throw new EasyCardError('E_EASYCARD_DECRYPT', 'decrypting the reply failed: it does not decrypt under this request\'s AES key and the configured IV (wrong aesIv?)', {
      cause: err,
      delivery: 'received',
    });
  }
}
