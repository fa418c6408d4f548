/**
 * The cloud's second pin code (pinCode2), kept across restarts.
 *
 * On the cloud path the Pair answer may carry a pinCode2 that encrypts every
 * later command. It is kept in the ledger's `cloud_pairing` table, one row per
 * terminal, sealed with AES-256-GCM under a key of the same standing as
 * Node-RED's credentials (the node layer derives it from Node-RED's credential
 * secret; the command line from a random key file in its state directory). The
 * terminal's identity (business ID and device SN) is the additional
 * authenticated data: a row opens only for the terminal it was stored for, and
 * a tampered or moved row is refused. pinCode2 itself is never logged, never
 * put in an error text and never written in clear.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { SecurityError, validatePairingCode, ValidationError, type WonderErrorOptions } from '../protocol';
import { createPrivateFileOnce, ensurePrivateDirectory, openLedger, readLedgerRows, readPrivateFile, type Ledger } from '../ledger';

const FORMAT = 'wonder-ecr-pairing/1';
/** A sealed pinCode2 is some tens of characters; a longer row is not one. */
const MAX_RECORD_CHARS = 4096;
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

interface StoredRow {
  format: string;
  iv: string;
  tag: string;
  data: string;
}

export interface PairingStoreOptions {
  /** The ledger's owner (LedgerOptions.owner): the runtime whose terminals share the ledger. Default: the process. */
  owner?: unknown;
}

/** The cloud pairings kept in the ledger in `ledgerFile`, sealed under `key`. */
export class PairingStore {
  readonly ledgerFile: string;
  readonly #key: Buffer;
  readonly #owner: unknown;

  constructor(ledgerFile: string, key: Buffer, options: PairingStoreOptions = {}) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new ValidationError('key', `must be ${KEY_BYTES} bytes`);
    this.ledgerFile = ledgerFile;
    this.#key = Buffer.from(key);
    this.#owner = options.owner;
  }

  #ownerOption(): { owner?: unknown } {
    return this.#owner === undefined ? {} : { owner: this.#owner };
  }

  /** Runs `use` on the ledger (shared with this owner's terminals when they have it open), then gives it back. */
  async #withLedger<T>(use: (ledger: Ledger) => Promise<T>): Promise<T> {
    const ledger = openLedger(this.ledgerFile, this.#ownerOption());
    try {
      return await use(ledger);
    } finally {
      await ledger.close();
    }
  }

  /**
   * The stored pinCode2 of this terminal; undefined when none is stored.
   * Throws PairAgainError when a row is there but cannot be trusted (another
   * key, tampered, stored for another terminal).
   */
  load(id: CloudTerminalIdentity): string | undefined {
    checkIdentity(id);
    const rows = readLedgerRows<StoredRow>(this.ledgerFile, 'SELECT format, iv, tag, data FROM cloud_pairing WHERE business_id = ? AND device_sn = ?', [id.businessId, id.deviceSn]);
    const row = rows[0];
    if (row === undefined) return undefined;
    try {
      if (row.format !== FORMAT || row.data.length > MAX_RECORD_CHARS) throw new Error('not a pairing record');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(row.iv, 'base64'), { authTagLength: 16 });
      decipher.setAAD(aadOf(id));
      decipher.setAuthTag(Buffer.from(row.tag, 'base64'));
      const plain = JSON.parse(Buffer.concat([decipher.update(Buffer.from(row.data, 'base64')), decipher.final()]).toString('utf8')) as { pinCode2?: unknown };
      return validatePairingCode(plain.pinCode2, 'pinCode2');
    } catch (cause) {
      // No detail of the row in the text: only that it cannot be trusted.
      throw new PairAgainError(`the stored cloud pairing of ${describe(id)} does not decrypt with this installation's key, or was altered: pair again`, {
        cause: cause instanceof SecurityError ? cause : undefined,
      });
    }
  }

  /** Stores (replaces) this terminal's pinCode2, sealed; committed (synchronous=FULL) when this resolves. */
  async save(id: CloudTerminalIdentity, pinCode2: string): Promise<void> {
    checkIdentity(id);
    validatePairingCode(pinCode2, 'pinCode2');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: 16 });
    cipher.setAAD(aadOf(id));
    const data = Buffer.concat([cipher.update(JSON.stringify({ pinCode2 }), 'utf8'), cipher.final()]);
    const row = {
      business_id: id.businessId,
      device_sn: id.deviceSn,
      format: FORMAT,
      saved_at: Date.now(),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await this.#withLedger((ledger) => ledger.writePairing(row));
  }

  /** Forgets this terminal's pinCode2 (it pairs without one now). */
  async remove(id: CloudTerminalIdentity): Promise<void> {
    checkIdentity(id);
    await this.#withLedger((ledger) => ledger.removePairing(id.businessId, id.deviceSn));
  }
}
