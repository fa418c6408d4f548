import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCertificate {
  /** PEM private key of the server. */
  key: string;
  /** PEM self-signed certificate (CN=localhost, SAN IP:127.0.0.1 and DNS:localhost); also its own CA. */
  cert: string;
}

let cached: TestCertificate | undefined;

/**
 * A self-signed certificate for 127.0.0.1 / localhost, valid one day, made
 * with the openssl CLI in a temporary folder that is removed at once.
 * Made once per process.
 */
export function selfSignedCertificate(): TestCertificate {
  if (cached !== undefined) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      '/usr/bin/openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days', '1',
        '-keyout', keyFile, '-out', certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    cached = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
    return cached;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
