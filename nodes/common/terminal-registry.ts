import type { Terminal } from '../../lib/terminal';

/** A deployed wonder-terminal config node, as the operator tools see it. */
export interface RegisteredTerminal {
  /** The config node's id. */
  id: string;
  /** Its name in the editor (or its transport and address when unnamed). */
  name: string;
  /** serial, lan, cloud or simulator. */
  transport: string;
  /** Port path, host:port or business/device: never a secret. */
  address: string;
  /** The terminal's identity (see terminalIdentity): the name its payments are recorded under in the ledger. */
  identity: string;
  handle: Terminal;
}

/**
 * The terminals deployed in this runtime, by config node id: registered when
 * a wonder-terminal node starts, deregistered when it closes.
 */
const terminals = new Map<string, RegisteredTerminal>();

export function registerTerminal(entry: RegisteredTerminal): void {
  terminals.set(entry.id, entry);
}

export function deregisterTerminal(id: string, handle?: Terminal): void {
  // A node re-deployed under the same id registers its new handle before the old one closes.
  if (handle === undefined || terminals.get(id)?.handle === handle) terminals.delete(id);
}

export function registeredTerminals(): RegisteredTerminal[] {
  return [...terminals.values()];
}

export function registeredTerminal(id: string): RegisteredTerminal | undefined {
  return terminals.get(id);
}
