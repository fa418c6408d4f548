/**
 * The cloud's second pin code (pinCode2), kept across restarts.
 *
 * On the cloud path the Pair answer may carry a pinCode2 that encrypts every
 * later command. It is stored here, one file per terminal, encrypted with
 * AES-256-GCM under a key of the same standing as Node-RED's credentials (the
 * node layer derives it from Node-RED's credential secret; the command line
 * from a random key file in its state directory). The terminal's identity
 * (business ID and device SN) is the additional authenticated data: a record
 * decrypts only for the terminal it was stored for, and a tampered or swapped
 * record is refused. pinCode2 itself is never logged, never put in an error
 * text and never written in clear.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SecurityError, validatePairingCode, ValidationError, type WonderErrorOptions } from '../protocol';
import { createPrivateFileOnce, ensurePrivateDirectory, readPrivateFile, safeName, writePrivateFileAtomic } from '../ledger';

const FORMAT = 'wonder-ecr-pairing/1';
const MAX_RECORD_BYTES = 4096;
const KEY_BYTES = 32;

/** A cloud terminal: the business it belongs to and its serial number. */
export interface CloudTerminalIdentity {
  businessId: string;
  deviceSn: string;
}

/**
 * The terminal no longer accepts the stored pairing (its answers do not
 * decrypt), or the stored pairing cannot be read: it has to be paired again.
 * A security error (E_SECURITY), never a declined payment.
 */
export class PairAgainError extends SecurityError {
  readonly pairAgain = true;
  constructor(message: string, options?: WonderErrorOptions) {
    super(message, options);
    this.name = 'PairAgainError';
  }
}

export function isPairAgainError(err: unknown): err is PairAgainError {
  return err instanceof PairAgainError;
}

/** The store's AES-256 key from a secret (Node-RED's credential secret): HKDF-SHA256, its own purpose. */
export function pairingKeyFromSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || secret === '') throw new ValidationError('credentialSecret', 'is empty');
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'node-red-contrib-wonder-ecr', 'cloud pairing store v1', KEY_BYTES));
}

/**
 * A random key kept in `file` (mode 0600, created once, never through a
 * symbolic link). For a store with no credential secret to derive from.
 */
export function pairingKeyFromFile(file: string): Buffer {
  ensurePrivateDirectory(path.dirname(file));
  createPrivateFileOnce(file, randomBytes(KEY_BYTES));
  const key = readPrivateFile(file, 1024);
  if (key === undefined || key.length !== KEY_BYTES) throw new Error(`${file} does not hold a ${KEY_BYTES}-byte key`);
  return key;
}

function checkIdentity(id: CloudTerminalIdentity): CloudTerminalIdentity {
  for (const field of ['businessId', 'deviceSn'] as const) {
    const value = id?.[field];
    if (typeof value !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(value)) throw new ValidationError(field, 'must be 1 to 256 visible ASCII characters');
  }
  return id;
}

function aadOf(id: CloudTerminalIdentity): Buffer {
  return Buffer.from(JSON.stringify([FORMAT, id.businessId, id.deviceSn]), 'utf8');
}

function describe(id: CloudTerminalIdentity): string {
  return `cloud terminal ${id.deviceSn} of business ${id.businessId}`;
}

interface StoredRecord {
  format: string;
  businessId: string;
  deviceSn: string;
  savedAt: string;
  iv: string;
  tag: string;
  data: string;
}

/** One encrypted record per cloud terminal in `dir` (mode 0700; files 0600). */
export class PairingStore {
  readonly dir: string;
  readonly #key: Buffer;

  constructor(dir: string, key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new ValidationError('key', `must be ${KEY_BYTES} bytes`);
    this.dir = dir;
    this.#key = Buffer.from(key);
  }

  /** The record's file: named for the terminal, with a hash so that two names never share a file. */
  fileFor(id: CloudTerminalIdentity): string {
    checkIdentity(id);
    const hash = createHash('sha256').update(aadOf(id)).digest('hex').slice(0, 12);
    return path.join(this.dir, `pairing-${safeName(id.businessId)}-${safeName(id.deviceSn)}-${hash}.json`);
  }

  /**
   * The stored pinCode2 of this terminal; undefined when none is stored.
   * Throws PairAgainError when a record is there but cannot be trusted
   * (another key, tampered, stored for another terminal).
   */
  load(id: CloudTerminalIdentity): string | undefined {
    const file = this.fileFor(id);
    let raw: Buffer | undefined;
    try {
      raw = readPrivateFile(file, MAX_RECORD_BYTES);
    } catch (cause) {
      throw new PairAgainError(`the stored cloud pairing of ${describe(id)} cannot be read (${(cause as Error).message}): pair again`, { cause });
    }
    if (raw === undefined) return undefined;
    try {
      const record = JSON.parse(raw.toString('utf8')) as StoredRecord;
      if (record.format !== FORMAT || record.businessId !== id.businessId || record.deviceSn !== id.deviceSn) throw new Error('stored for another terminal');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(record.iv, 'base64'), { authTagLength: 16 });
      decipher.setAAD(aadOf(id));
      decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
      const plain = JSON.parse(Buffer.concat([decipher.update(Buffer.from(record.data, 'base64')), decipher.final()]).toString('utf8')) as { pinCode2?: unknown };
      return validatePairingCode(plain.pinCode2, 'pinCode2');
    } catch (cause) {
      // No detail of the record in the text: only that it cannot be trusted.
      throw new PairAgainError(`the stored cloud pairing of ${describe(id)} does not decrypt with this installation's key, or was altered: pair again`, {
        cause: cause instanceof SecurityError ? cause : undefined,
      });
    }
  }

  /** Stores (replaces) this terminal's pinCode2, encrypted; on disk (fsync'd) when this returns. */
  save(id: CloudTerminalIdentity, pinCode2: string): void {
    validatePairingCode(pinCode2, 'pinCode2');
    const file = this.fileFor(id);
    ensurePrivateDirectory(this.dir);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: 16 });
    cipher.setAAD(aadOf(id));
    const data = Buffer.concat([cipher.update(JSON.stringify({ pinCode2 }), 'utf8'), cipher.final()]);
    const record: StoredRecord = {
      format: FORMAT,
      businessId: id.businessId,
      deviceSn: id.deviceSn,
      savedAt: new Date().toISOString(),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writePrivateFileAtomic(file, `${JSON.stringify(record)}\n`);
  }

  /** Forgets this terminal's pinCode2 (it pairs without one now). */
  remove(id: CloudTerminalIdentity): void {
    fs.rmSync(this.fileFor(id), { force: true });
  }
}
