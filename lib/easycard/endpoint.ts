import { describeValue, ValidationError } from '../protocol';
import { SCAN2PAY_ENDPOINTS } from './client';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The endpoint as configured: `stage`, `production` or a URL. A custom URL
 * must be https; plain http is accepted only for a loopback host (a local test
 * server), never across a network.
 */
export function resolveEndpoint(value: unknown, field = 'endpoint'): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(field, `the Scan2Pay API URL is required (stage, production or an https:// URL), got ${describeValue(value)}`);
  }
  const text = value.trim();
  if (text === 'stage' || text === 'production') return SCAN2PAY_ENDPOINTS[text];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(field, `is not a URL: ${describeValue(text)}`);
  }
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url.toString();
  throw new ValidationError(field, `a custom endpoint must be an https:// URL, got ${url.protocol}//${url.host}`);
}
