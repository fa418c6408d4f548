import * as fs from 'node:fs';
import { WonderError } from '../../lib/protocol';
import type { RegisteredTerminal } from './terminal-registry';

/**
 * Where a terminal is, compared across config nodes: a serial port after
 * symbolic links are resolved (`/dev/serial/by-id/…` and `/dev/ttyUSB0` are
 * one port), a LAN host (case-insensitive) and port, a cloud business and
 * device. The simulator has none: each simulated terminal is its own.
 */
export function placeKey(transport: string, address: string): string | undefined {
  switch (transport) {
    case 'serial': {
      const port = address.trim();
      if (port === '') return undefined;
      let real = port;
      try {
        real = fs.realpathSync(port);
      } catch {
        // Not there now (unplugged): compared by the path as written.
      }
      return `serial:${real}`;
    }
    case 'lan':
      return `lan:${address.trim().toLowerCase()}`;
    case 'cloud':
      return `cloud:${address.trim()}`;
    default:
      return undefined;
  }
}

/** What a config node about to open a terminal would use. */
export interface TerminalUse {
  id: string;
  transport: string;
  address: string;
  /** The SN last seen at its place (from the ledger), if any. */
  sn?: string;
}

/**
 * The deployed config node (other than `mine.id`) that already uses the same
 * terminal: the same place, or the same serial number.
 */
export function sameTerminalAs(mine: TerminalUse, others: readonly RegisteredTerminal[]): RegisteredTerminal | undefined {
  const key = placeKey(mine.transport, mine.address);
  for (const other of others) {
    if (other.id === mine.id || other.handle.configError !== undefined) continue;
    if (key !== undefined && placeKey(other.transport, other.address) === key) return other;
    if (mine.sn !== undefined && other.handle.device.sn === mine.sn) return other;
  }
  return undefined;
}

/** A config node refused because another one already opens its terminal (shown "same terminal"). */
export class SameTerminalError extends WonderError {
  constructor(message: string) {
    super('E_VALIDATION', message);
    this.name = 'SameTerminalError';
  }
}
