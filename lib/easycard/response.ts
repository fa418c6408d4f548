import { describeValue, isRecord, ValidationError } from '../protocol';
import { EASYCARD_METHOD } from './classify';
import type { Scan2PayResponse } from './types';


/**
 * A failed EasyCard response as given (msg.payload, a file's text): the
 * decrypted Scan2Pay reply `{Header, Data}`, as an object, JSON text or a
 * Buffer of JSON text. Throws ValidationError naming `field` otherwise;
 * nothing is sent then.
 */
export function failedResponseOf(payload: unknown, field = 'payload'): Scan2PayResponse {
  let value = payload;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    const text = value;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      throw new ValidationError(field, `must be the failed EasyCard response {Header, Data} (an object or its JSON text); this text is not JSON (${text.length} characters)`);
    }
  }
  if (!isRecord(value)) {
    throw new ValidationError(field, `must be the failed EasyCard response {Header, Data} as Scan2Pay returned it, got ${describeValue(value)}`);
  }
  if (!('Header' in value) && typeof value.Response === 'string') {
    throw new ValidationError(field, 'is the encrypted reply {"Response": …}; give the decrypted response {Header, Data}');
  }
  if (!isRecord(value.Header)) {
    throw new ValidationError(field, `must be the failed EasyCard response {Header, Data}: Header is missing (got ${describeValue(value.Header)})`);
  }
  if (value.Data === undefined || value.Data === null) {
    throw new ValidationError(field, 'must be the failed EasyCard response {Header, Data}: Data is missing');
  }
  const method = value.Header.Method;
  if (method !== undefined && String(method) !== EASYCARD_METHOD) {
    throw new ValidationError(field, `must be an EasyCard response (Header.Method ${EASYCARD_METHOD}), got Method ${describeValue(method)}`);
  }
  return value as Scan2PayResponse;
}

/** Keys that carry a credential (the SHA-256 of a password is as good as the password to Scan2Pay). */
const CREDENTIAL_KEYS = /^(tradekey|refundkey)$/i;
export const REDACTED = '[redacted]';

/**
 * A deep copy of a Scan2Pay response with any TradeKey / RefundKey value
 * replaced by "[redacted]" (a reply that echoes its request must not carry
 * them into a flow); everything else is kept as received.
 */
export function withoutCredentials<T>(value: T, depth = 0): T {
  if (depth > 20) return value;
  if (Array.isArray(value)) return value.map((v) => withoutCredentials(v, depth + 1)) as unknown as T;
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = CREDENTIAL_KEYS.test(k) && v !== '' && v !== null && v !== undefined ? REDACTED : withoutCredentials(v, depth + 1);
    }
    return out as T;
  }
  if (typeof value === 'string' && depth > 0 && /"(tradekey|refundkey)"\s*:/i.test(value) && value.trim().startsWith('{')) {
    // Scan2Pay documents Data.request as a "JSON String": redact inside it too.
    try {
      return JSON.stringify(withoutCredentials(JSON.parse(value) as unknown, depth + 1)) as unknown as T;
    } catch {
      return value;
    }
  }
  return value;
}
