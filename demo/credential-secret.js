'use strict';
// The demo's credential secret: made at random on first start and kept in
// the demo user directory (mode 0600), reused after. Nothing secret lives in
// settings.js or the repository.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const FILE = '.wonder-credential-secret';

/** The secret of `userDir`, made (32 random bytes, hex) when there is none yet. */
function credentialSecret(userDir) {
  fs.mkdirSync(userDir, { recursive: true, mode: 0o700 });
  const file = path.join(userDir, FILE);
  try {
    // 'wx': created here or not at all (never through a symlink, never over another file).
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  const stat = fs.lstatSync(file);
  if (!stat.isFile()) throw new Error(`${file} must be a regular file (not a link) holding the credential secret`);
  if ((stat.mode & 0o077) !== 0) throw new Error(`${file} can be read by other users: run chmod 600 on it`);
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error(`${file} does not hold a credential secret (64 hex digits)`);
  return secret;
}

module.exports = { credentialSecret, CREDENTIAL_SECRET_FILE: FILE };
