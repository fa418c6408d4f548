/**
 * Strict reading of a decrypted plaintext.
 *
 * The terminal's cipher (AES-256-CBC, zero IV, no MAC) does not authenticate
 * anything: a changed ciphertext byte decrypts to one garbled 16-byte block
 * (and one changed bit in the next). What stands between such a message and a
 * payment result is this check: the plaintext must be what a terminal writes,
 * or it is a security error. A garbled block is 16 random bytes, which are
 * almost never valid UTF-8 free of control characters, let alone valid JSON
 * of the expected shape.
 */
import { SecurityError } from './errors';
import { isRecord } from './validate';

/** Keys that mean something to JavaScript objects: refused anywhere in a message. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper than any message of the protocol (header/body/creditCard is 3). */
export const MAX_JSON_DEPTH = 8;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * C0 controls (tab, CR and LF included: the terminal writes compact JSON),
 * DEL and the C1 controls. Chinese and other printable text pass.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Requests hold only printable ASCII: every field an ECR sends is validated as such (lib/validate.ts). */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
/** UTF-8 that is not valid is refused (fatal), and a byte-order mark is kept, so that JSON.parse refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Whether a forbidden key could hide in the text: one of the names, or any escape (which could spell one). */
function mayHoldForbiddenKey(text: string): boolean {
  return text.includes('\\') || text.includes('__proto__') || text.includes('constructor') || text.includes('prototype');
}

/** Whether the text has enough opening brackets to nest past MAX_JSON_DEPTH (found with native indexOf, at most that many times). */
function mayNestTooDeep(text: string): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) if (++count >= MAX_JSON_DEPTH) return true;
  }
  return false;
}

/**
 * The control characters JSON.parse accepts, found in valid UTF-8 bytes with
 * native byte searches: tab, LF and CR (as whitespace), DEL and the C1
 * controls (U+0080 to U+009F, written C2 80 to C2 9F). Every other one (U+0000
 * to U+001F) is refused by JSON.parse itself, so a text that parses holds a
 * CONTROL character exactly when this finds one.
 */
function jsonAllowedControl(plain: Uint8Array): boolean {
  const bytes = Buffer.isBuffer(plain) ? plain : Buffer.from(plain.buffer, plain.byteOffset, plain.length);
  if (bytes.indexOf(0x0a) >= 0 || bytes.indexOf(0x09) >= 0 || bytes.indexOf(0x0d) >= 0 || bytes.indexOf(0x7f) >= 0) return true;
  for (let at = bytes.indexOf(0xc2); at >= 0; at = bytes.indexOf(0xc2, at + 1)) {
    const next = bytes[at + 1]!;
    if (next >= 0x80 && next <= 0x9f) return true;
  }
  return false;
}

function tampered(what: string, cause?: unknown): SecurityError {
  return new SecurityError(`decrypted data ${what} (wrong pairing code, or tampered data)`, cause === undefined ? undefined : { cause });
}


/** No forbidden key (when `keys`), no deeper than MAX_JSON_DEPTH; recursion is bounded by that depth. */
function checkTree(value: object, depth: number, keys: boolean): void {
  if (depth >= MAX_JSON_DEPTH) throw tampered(`nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) checkTree(item as object, depth + 1, keys);
    return;
  }
  for (const key of Object.keys(value)) {
    if (keys && FORBIDDEN_KEYS.has(key)) throw tampered(`holds the key ${JSON.stringify(key)}`);
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) checkTree(child, depth + 1, keys);
  }
}

/**
 * Reads a decrypted plaintext as a message: valid UTF-8, no control
 * characters, JSON, an object with a `header` object, no `__proto__`,
 * `constructor` or `prototype` key at any depth. Anything else: SecurityError.
 * `printableAscii`: a request, which holds nothing but printable ASCII.
 */
export function parseStrictJson(plain: Uint8Array, options: { printableAscii?: boolean } = {}): Record<string, unknown> & { header: Record<string, unknown> } {
  let text: string;
  try {
    text = UTF8.decode(plain);
  } catch {
    throw tampered('is not valid UTF-8');
  }
  const ascii = options.printableAscii === true;
  // A request is checked by regular expressions; an answer by the bytes JSON.parse lets through (see jsonAllowedControl).
  if (ascii ? CONTROL.test(text) : jsonAllowedControl(plain)) throw tampered('holds control characters');
  const keys = mayHoldForbiddenKey(text);
  if (ascii && NOT_PRINTABLE_ASCII.test(text)) throw tampered('holds characters other than printable ASCII');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    // Any other control character makes JSON.parse fail: it is named as before.
    if (!ascii && CONTROL.test(text)) throw tampered('holds control characters');
    throw tampered('is not JSON', cause);
  }
  if (!isRecord(value) || !isRecord(value.header)) throw tampered('is not an object with a header');
  // The tree is walked only when a forbidden key or a too deep nesting is possible at all: the common message skips it.
  if (keys || mayNestTooDeep(text)) checkTree(value, 0, keys);
  return value as Record<string, unknown> & { header: Record<string, unknown> };
}

/** The id a message's header carries: `requestID` (a request) or `responseID` (a response), a UUID. */
export function checkMessageId(header: Record<string, unknown>, key: 'requestID' | 'responseID'): string {
  const id = header[key];
  if (typeof id !== 'string' || !UUID.test(id)) throw tampered(`has no UUID header.${key}`);
  return id;
}

/** A message from either side: its header names it by a UUID requestID or responseID. */
export function checkEitherId(header: Record<string, unknown>): void {
  const id = typeof header.responseID === 'string' ? header.responseID : header.requestID;
  if (typeof id !== 'string' || !UUID.test(id)) throw tampered('has no UUID header.responseID or header.requestID');
}
