/**
 * What the command line keeps between runs, in its state directory
 * (`$XDG_STATE_HOME/wonder-ecr`, else `~/.local/state/wonder-ecr`; mode 0700,
 * files 0600): the cloud pairing (pinCode2), encrypted under a random key of
 * its own there (`pairing.key`), and the EasyCard journal.
 */
import * as path from 'node:path';
import { pairingKeyFromFile, PairingStore } from '../session';
import { cliStateDirectory } from '../ledger';

/** The CLI's pairing store (created on first use). */
export function cliPairingStore(env: NodeJS.ProcessEnv): PairingStore {
  const dir = cliStateDirectory(env);
  return new PairingStore(dir, pairingKeyFromFile(path.join(dir, 'pairing.key')));
}
