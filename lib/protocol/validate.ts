import { MAX_MINOR_UNIT, minorUnit } from './currency';
import { ValidationError } from './errors';

/** Up to 12 integer digits and at most four decimals (the most a currency has); no sign, exponent or spaces. */
const AMOUNT = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?$/;
const CURRENCY = /^[A-Z]{3}$/;
/** References: what a till system uses as an id (UUIDs, order numbers). */
const REFERENCE = /^[A-Za-z0-9._:\-]{1,64}$/;
/** Free text ids: printable ASCII. */
const PRINTABLE = /^[\x20-\x7e]{1,64}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A JSON object (not null, an array or a Buffer): the one check every layer uses. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** A short, safe rendering of a rejected value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (value.length === 0) return 'an empty string';
    const shown = value.length > 24 ? `${value.slice(0, 24)}…` : value;
    return `"${shown.replace(/[^\x20-\x7e]/g, '?')}"${value.length > 24 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Amount as the terminal wants it: a positive decimal string with no more
 * decimals than the currency's minor unit (ISO 4217: JPY none, KWD three,
 * CLF four, most two; see currency.ts). A finite number is read as the
 * decimal it prints as. Trailing zeros beyond the minor unit are refused
 * like any other digit for currencies of two decimals or more, but a whole
 * amount written "1200.00" is one for a currency with none. Sent with at
 * least two decimals (the terminal's format), more where the currency has
 * them: "10.2" HKD is "10.20", "1.2" KWD is "1.200", "1200" JPY is "1200.00".
 * Without a currency, two decimals at most (as for an unlisted currency).
 */
export function validateAmount(value: unknown, field = 'amount', currency?: string): string {
  const unit = currency === undefined ? 2 : minorUnit(currency);
  const places = Math.max(2, unit);
  const rule = unit === 0
    ? `a positive whole amount (${currency} has no minor unit)`
    : `a positive amount with at most ${unit} decimals${currency === undefined ? '' : ` (the minor unit of ${currency})`}`;
  let text: string;
  if (typeof value === 'number') {
    text = Number.isFinite(value) && value > 0 ? String(value) : '';
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw new ValidationError(field, `must be a positive decimal string such as "10.20", got ${describeValue(value)}`);
  }
  const m = text.length <= 24 ? AMOUNT.exec(text) : null;
  const fraction = m?.[2]?.slice(1) ?? '';
  if (m === null || !/[1-9]/.test(text) || fraction.length > places || fraction.replace(/0+$/, '').length > unit) {
    throw new ValidationError(field, `must be ${rule}, written as a decimal such as "${unit === 0 ? '1200' : '10.20'}", got ${describeValue(value)}`);
  }
  return `${m[1]}.${fraction.padEnd(places, '0')}`;
}

/**
 * An amount in its one written form, or undefined when it is not an amount:
 * at least two decimals, more only where they are not zeros ("10.2", 10.2,
 * "10.20" and "10.200" are all "10.20"; "1.234" stays "1.234"). Equal forms
 * are equal amounts, to the last digit: every comparison of amounts compares
 * these strings, never binary floating point. A number is read as the
 * decimal it prints as.
 */
export function canonicalAmount(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value >= 1e12) return undefined;
    text = String(value);
  } else if (typeof value === 'string' && value.length <= 24) {
    text = value.trim();
  } else {
    return undefined;
  }
  const m = AMOUNT.exec(text);
  if (m === null) return undefined;
  const fraction = (m[2] ?? '').slice(1).replace(/0+$/, '').padEnd(2, '0');
  return `${m[1]}.${fraction}`;
}

/**
 * An amount as an exact integer count of 1/10,000 (the smallest minor unit,
 * CLF's), for sums and bounds; undefined when it is not an amount.
 */
export function amountUnits(value: unknown): bigint | undefined {
  const canonical = canonicalAmount(value);
  if (canonical === undefined) return undefined;
  const [whole, fraction] = canonical.split('.') as [string, string];
  return BigInt(whole) * 10n ** BigInt(MAX_MINOR_UNIT) + BigInt(fraction.padEnd(MAX_MINOR_UNIT, '0'));
}

/** An exact count of 1/10,000 (see amountUnits) written back as canonicalAmount writes it; negative with a "-". */
export function unitsToAmount(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const scale = 10n ** BigInt(MAX_MINOR_UNIT);
  const fraction = (abs % scale).toString().padStart(MAX_MINOR_UNIT, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${(abs / scale).toString()}.${fraction}`;
}

export function validateCurrency(value: unknown, field = 'currency'): string {
  if (typeof value !== 'string' || !CURRENCY.test(value)) {
    throw new ValidationError(field, `must be a three-letter ISO 4217 code in capitals, such as "HKD", got ${describeValue(value)}`);
  }
  return value;
}

export function validateReference(value: unknown, field: string): string {
  if (value === undefined || value === null || value === '') {
    throw new ValidationError(field, 'is required');
  }
  if (typeof value !== 'string' || !REFERENCE.test(value)) {
    throw new ValidationError(
      field,
      `must be 1 to 64 characters of letters, digits, ".", "_", ":" or "-", got ${describeValue(value)}`,
    );
  }
  return value;
}

export function validateOptionalReference(value: unknown, field: string): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : validateReference(value, field);
}

export function validateText(value: unknown, field: string): string {
  if (typeof value !== 'string' || !PRINTABLE.test(value)) {
    throw new ValidationError(field, `must be 1 to 64 printable ASCII characters, got ${describeValue(value)}`);
  }
  return value;
}

export function validateOptionalText(value: unknown, field: string): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : validateText(value, field);
}

export function validateUuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new ValidationError(field, `must be a UUID, got ${describeValue(value)}`);
  }
  return value;
}

/** What `validateSeconds` accepts besides the default (above 0, at most 3600, fractions allowed). */
export interface SecondsOptions {
  /** 0 is allowed (a wait that does not wait). */
  allowZero?: boolean;
  /** The least value, when above 0 (then the range reads "from min to max"). */
  min?: number;
  /** The greatest value (default 3600). */
  max?: number;
  /** Whole seconds only. */
  whole?: boolean;
  /** Empty (undefined, null, '') or 0 means "off": 0 is returned, and the rule says so. */
  off?: boolean;
}

/**
 * A number of seconds from config, a CLI flag or a message: a number, or
 * text holding one. The one parser of seconds; ranges differ by `options`.
 */
export function validateSeconds(value: unknown, field: string, options: SecondsOptions = {}): number {
  const { allowZero = false, min, max = 3600, whole = false, off = false } = options;
  if (off && (value === undefined || value === null || value === '')) return 0;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (off && n === 0) return 0;
  const inRange = typeof n === 'number' && Number.isFinite(n) && (min !== undefined ? n >= min : allowZero ? n >= 0 : n > 0) && n <= max;
  if (!inRange || (whole && !Number.isInteger(n))) {
    const range = min !== undefined ? `from ${min} to ${max}` : allowZero ? `from 0 to ${max}` : `above 0 and at most ${max}`;
    const rule = `${whole ? 'a whole number' : 'a number'} of seconds ${range}`;
    throw new ValidationError(field, `must be ${off ? `empty or 0 (off), or ${rule}` : rule}, got ${describeValue(value)}`);
  }
  return n as number;
}

/** `validateSeconds` in milliseconds (whole; at least 1 unless 0 is allowed). */
export function validateSecondsMs(value: unknown, field: string, options: SecondsOptions = {}): number {
  const seconds = validateSeconds(value, field, options);
  const ms = Math.round(seconds * 1000);
  return seconds > 0 ? Math.max(1, ms) : ms;
}

/** A timeout: seconds above 0 and at most 3600. */
export function validateTimeoutSeconds(value: unknown, field = 'timeout'): number {
  return validateSeconds(value, field);
}
