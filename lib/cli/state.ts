/**
 * What the command line keeps between runs, in its state directory
 * (`$XDG_STATE_HOME/wonder-ecr`, else `~/.local/state/wonder-ecr`; mode 0700,
 * files 0600): its ledger (`ledger.db`: payments, EasyCard runs and the cloud
 * pairing, pinCode2 sealed under a random key of its own there, `pairing.key`).
 */
import * as path from 'node:path';
import { CloudPairing, pairingKeyFromFile, PairingStore } from '../session';
import { cliStateDirectory, LEDGER_FILE_NAME } from '../ledger';
import type { Action, RequestParams } from '../protocol';
import type { Outcome, RequestOptions, TerminalSession } from '../session';
import { CloudTransport } from '../transport';

/** The CLI's pairing store (created on first use). */
export function cliPairingStore(env: NodeJS.ProcessEnv): PairingStore {
  const dir = cliStateDirectory(env);
  return new PairingStore(path.join(dir, LEDGER_FILE_NAME), pairingKeyFromFile(path.join(dir, 'pairing.key')));
}

/** The CLI's EasyCard journal of a merchant, unless --journal names another file. */
/** One command's session with the key it should speak with: a stored pinCode2 (cloud) once the device SN is known. */
export function cliPairing(session: TerminalSession, pin: string, env: NodeJS.ProcessEnv) {
  const pairing = new CloudPairing(session, pin, session.transport instanceof CloudTransport ? cliPairingStore(env) : undefined);
  return {
    pair: () => pairing.pair(),
    async request<A extends Action>(action: A, params: RequestParams[A], options?: RequestOptions): Promise<Outcome<A>> {
      pairing.load();
      // A stored pairing that cannot be read: nothing is sent under the first code instead.
      if (pairing.unreadable !== undefined) throw pairing.unreadable;
      try {
        return await session.request(action, params, options);
      } catch (err) {
        throw pairing.mapError(err);
      }
    },
  };
}
