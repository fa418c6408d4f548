/**
 * Certificate pinning for LAN terminals over HTTPS. Terminals serve
 * self-signed certificates: instead of a CA, the SHA-256 fingerprint of the
 * terminal's own certificate can be pinned. The TLS handshake is made and the
 * certificate compared before a single byte of the request is written: a
 * wrong certificate is a SecurityError and nothing is sent.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { SecurityError, TransportError, ValidationError } from '../protocol';

/**
 * A SHA-256 certificate fingerprint as `openssl x509 -noout -fingerprint -sha256`
 * prints it (`AB:CD:…`, with or without the `sha256 Fingerprint=` prefix),
 * or as 64 hex digits. Gives the canonical `AB:CD:…` form.
 */
export function normalizeFingerprint(value: unknown, field = 'tlsFingerprint'): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be the SHA-256 fingerprint of the terminal certificate (64 hex digits)');
  const hex = value.trim().replace(/^sha-?256\s*(fingerprint)?\s*[=:]?\s*/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ValidationError(field, 'must be the SHA-256 fingerprint of the terminal certificate: 64 hex digits, colons allowed');
  }
  return hex.toUpperCase().match(/../g)!.join(':');
}

export interface PinnedConnectOptions {
  host: string;
  port: number;
  /** Canonical fingerprint (normalizeFingerprint). */
  fingerprint256: string;
  /** With a CA as well, the chain and host name are checked too. */
  ca?: string | Buffer;
  label: string;
  signal: AbortSignal;
}

function samePin(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A TLS connection to the terminal whose certificate matches the pin; rejects before anything is written otherwise. */
export function connectPinned(options: PinnedConnectOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const { signal, label } = options;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      // SNI takes host names only, never an IP address.
      ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
      // Without a CA the pin is the whole check; with one, the chain is checked as well.
      rejectUnauthorized: options.ca !== undefined,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
    };
    const onError = (err: Error) => {
      done();
      socket.destroy();
      reject(new TransportError(`${label}: ${err.message}`, { cause: err, notSent: true }));
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      done();
      const presented = socket.getPeerCertificate().fingerprint256 ?? '';
      if (!samePin(presented, options.fingerprint256)) {
        socket.destroy();
        reject(new SecurityError(`${label}: the terminal's TLS certificate (SHA-256 ${presented || 'none'}) is not the pinned one; nothing was sent`, { notSent: true }));
        return;
      }
      resolve(socket);
    });
  });
}
