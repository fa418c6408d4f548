import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { SecurityError, ValidationError } from './errors';
import { checkEitherId, checkMessageId, parseStrictJson } from './strict-json';

/** The terminal dictates a zero IV; the key is the only secret. */
const ZERO_IV = Buffer.alloc(16);
const ALGORITHM = 'aes-256-cbc';
const PAIRING_CODE = /^[0-9A-Za-z]{6}$/;

export function validatePairingCode(code: unknown, field = 'pairingCode'): string {
  if (typeof code !== 'string' || code.length === 0) {
    throw new ValidationError(field, 'the pairing code is required (the 6-character code shown on the terminal)');
  }
  if (!PAIRING_CODE.test(code)) {
    // Never echo the value: it is a secret.
    throw new ValidationError(field, 'the pairing code must be exactly 6 letters or digits, as shown on the terminal');
  }
  return code;
}

/** AES-256 key: SHA-256 of the pairing code's ASCII text. */
export function deriveKey(pairingCode: string): Buffer {
  return createHash('sha256').update(pairingCode, 'ascii').digest();
}

export function encryptWithKey(key: Uint8Array, plaintext: string | Uint8Array): string {
  const cipher = createCipheriv(ALGORITHM, key, ZERO_IV);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

export function decryptWithKey(key: Uint8Array, data: string): Buffer {
  // Canonical base64 only: Node's decoder skips what is not base64, so the bytes must encode back to the very text.
  const bytes = data.length === 0 || data.length % 4 !== 0 ? undefined : Buffer.from(data, 'base64');
  if (bytes === undefined || bytes.toString('base64') !== data) {
    throw new SecurityError('encrypted data is not valid base64');
  }
  if (bytes.length === 0 || bytes.length % 16 !== 0) {
    throw new SecurityError('encrypted data is not a whole number of AES blocks');
  }
  let plain: Buffer;
  try {
    // Padding checked here, not by OpenSSL: every block comes out of one update(), with no copy to join it to final()'s.
    const decipher = createDecipheriv(ALGORITHM, key, ZERO_IV).setAutoPadding(false);
    plain = decipher.update(bytes);
    decipher.final();
  } catch (cause) {
    throw new SecurityError('data does not decrypt with the paired key (wrong pairing code, or tampered data)', { cause });
  }
  return plain.subarray(0, plain.length - pkcs7Padding(plain));
}

/** The PKCS#7 padding's length at the end of whole blocks (1 to 16 bytes, each its length); anything else is a SecurityError. */
function pkcs7Padding(plain: Buffer): number {
  const pad = plain[plain.length - 1]!;
  let ok = pad >= 1 && pad <= 16;
  for (let i = plain.length - pad; ok && i < plain.length - 1; i++) ok = plain[i] === pad;
  if (!ok) throw new SecurityError('data does not decrypt with the paired key (wrong pairing code, or tampered data)');
  return pad;
}

/**
 * Holds the key derived once from a pairing code. The key lives in a private
 * field, so it does not show in JSON, util.inspect or a debug dump.
 */
export class WonderCipher {
  readonly #key: Buffer;

  constructor(pairingCode: string) {
    this.#key = deriveKey(validatePairingCode(pairingCode));
  }

  encrypt(plaintext: string | Uint8Array): string {
    return encryptWithKey(this.#key, plaintext);
  }

  decrypt(data: string): Buffer {
    return decryptWithKey(this.#key, data);
  }

  /**
   * Decrypts and reads the plaintext strictly (lib/strict-json.ts): valid
   * UTF-8 without control characters, JSON, an object whose header carries a
   * UUID responseID or requestID, no prototype keys. Anything else, a wrong
   * key or a tampered ciphertext, is a SecurityError.
   */
  decryptJson(data: string): unknown {
    const message = parseStrictJson(this.decrypt(data));
    checkEitherId(message.header);
    return message;
  }

  /** decryptJson, for a response: the header must carry a UUID responseID. */
  decryptResponse(data: string): Record<string, unknown> & { header: Record<string, unknown> } {
    const message = parseStrictJson(this.decrypt(data));
    checkMessageId(message.header, 'responseID');
    return message;
  }

  /**
   * decryptJson, for a request (the simulator): printable ASCII only (all an
   * ECR sends is validated as such) and a UUID requestID in the header.
   */
  decryptRequest(data: string): Record<string, unknown> & { header: Record<string, unknown> } {
    const message = parseStrictJson(this.decrypt(data), { printableAscii: true });
    checkMessageId(message.header, 'requestID');
    return message;
  }

  /** Compares keys without exposing them. */
  sameKeyAs(other: WonderCipher): boolean {
    return this.#key.equals(other.#key);
  }

  toJSON(): Record<string, never> {
    return {};
  }
}
