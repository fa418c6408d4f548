import { readFileSync } from 'node:fs';
import { ValidationError } from '../protocol';

/**
 * Reads a PEM CA file to trust for HTTPS (a private CA, a staging server's
 * own certificate). A missing, unreadable or non-PEM file names the field.
 */
export function readCaFile(file: string, field = 'caFile'): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ValidationError(field, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ValidationError(field, 'is not a PEM certificate file');
  return pem;
}
