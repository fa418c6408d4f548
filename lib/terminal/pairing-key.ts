import * as path from 'node:path';
import { LEDGER_FILE_NAME } from '../ledger';
import { PairingStore, pairingKeyFromFile, pairingKeyFromSecret } from '../session';

interface SettingsView {
  get?: (name: string) => unknown;
  credentialSecret?: unknown;
}

function setting(settings: SettingsView, name: string): unknown {
  try {
    return typeof settings.get === 'function' ? settings.get(name) : (settings as Record<string, unknown>)[name];
  } catch {
    // Node-RED throws for a setting it does not have.
    return undefined;
  }
}

/**
 * The secret Node-RED encrypts its credentials with, as its runtime chooses
 * it (@node-red/runtime/lib/nodes/credentials.js): `credentialSecret` from
 * the settings file, else the `_credentialSecret` it generated into
 * `.config.runtime.json`. Undefined when encryption is off
 * (`credentialSecret: false`) or no secret is there.
 */
export function nodeRedCredentialSecret(settings: unknown): string | undefined {
  const view = (settings ?? {}) as SettingsView;
  const user = setting(view, 'credentialSecret');
  if (typeof user === 'string' && user !== '') return user;
  if (user === false) return undefined;
  const generated = setting(view, '_credentialSecret');
  return typeof generated === 'string' && generated !== '' ? generated : undefined;
}

/**
 * The pairing store of a Node-RED instance: the runtime's ledger
 * (`<userDir>/wonder-ecr/ledger.db`, opened as `owner`), its key derived from
 * Node-RED's credential secret (the same standing as the pairing code in the
 * credentials file). With credential encryption turned off, a random key in
 * `<userDir>/wonder-ecr/pairing.key` (mode 0600).
 */
export function nodeRedPairingStore(settings: unknown, userDir: string, owner: unknown): PairingStore {
  const dir = path.join(userDir, 'wonder-ecr');
  const secret = nodeRedCredentialSecret(settings);
  const key = secret !== undefined ? pairingKeyFromSecret(secret) : pairingKeyFromFile(path.join(dir, 'pairing.key'));
  return new PairingStore(path.join(dir, LEDGER_FILE_NAME), key, { owner });
}
