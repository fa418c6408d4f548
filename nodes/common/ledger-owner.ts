import type { NodeAPI } from 'node-red';

/**
 * The runtime a node module runs in, as the ledger's owner: every module of
 * one runtime is given its own RED, but they share the runtime's admin app.
 * Terminals and EasyCard accounts of one runtime share the ledger; another
 * runtime in this process on the same user directory is refused.
 */
export function ledgerOwnerOf(RED: Pick<NodeAPI, 'httpAdmin' | 'events'>): unknown {
  return RED.httpAdmin ?? RED.events;
}
