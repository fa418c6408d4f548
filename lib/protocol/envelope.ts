import { ProtocolError } from './errors';

/** Outer JSON of every message on every transport. */
export interface Envelope {
  version: string | number;
  action: string;
  data: string;
}

export const PROTOCOL_VERSION = '2.0';
/** Larger than any frame; bounds what a parser will look at. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

export function serializeEnvelope(action: string, data: string): string {
  return JSON.stringify({ version: PROTOCOL_VERSION, action, data });
}

/** Checks the shape of an already parsed envelope (also used for the cloud wrapper's `data`). */
export function checkEnvelope(value: unknown): Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('envelope is not a JSON object');
  }
  const env = value as Record<string, unknown>;
  // Terminals send "2.0" or the number 2.0.
  if (env.version !== PROTOCOL_VERSION && env.version !== 2) {
    throw new ProtocolError(`envelope version must be "2.0", got ${JSON.stringify(env.version)?.slice(0, 20)}`);
  }
  if (typeof env.action !== 'string' || env.action.length === 0 || env.action.length > 64) {
    throw new ProtocolError('envelope has no valid action');
  }
  if (typeof env.data !== 'string' || env.data.length === 0) {
    throw new ProtocolError('envelope has no data');
  }
  return { version: env.version, action: env.action, data: env.data };
}

/** Parses any bytes as an envelope; anything else is a ProtocolError, never a crash. */
export function parseEnvelope(input: string | Uint8Array): Envelope {
  const length = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (length > MAX_ENVELOPE_BYTES) {
    throw new ProtocolError(`envelope is ${length} bytes, more than ${MAX_ENVELOPE_BYTES}`);
  }
  const text = typeof input === 'string' ? input : (Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError('envelope is not valid JSON', { cause });
  }
  return checkEnvelope(value);
}
