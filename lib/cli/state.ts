/**
 * What the command line keeps between runs, in its state directory
 * (`$XDG_STATE_HOME/wonder-ecr`, else `~/.local/state/wonder-ecr`; mode 0700,
 * files 0600): its ledger (`ledger.db`: payments, EasyCard runs and the cloud
 * pairing, pinCode2 sealed under a random key of its own there, `pairing.key`).
 */
import * as path from 'node:path';
import { pairingKeyFromFile, PairingStore } from '../session';
import { cliStateDirectory, LEDGER_FILE_NAME } from '../ledger';

/** The CLI's pairing store (created on first use). */
export function cliPairingStore(env: NodeJS.ProcessEnv): PairingStore {
  const dir = cliStateDirectory(env);
  return new PairingStore(path.join(dir, LEDGER_FILE_NAME), pairingKeyFromFile(path.join(dir, 'pairing.key')));
}
