import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { JournalSource } from './ledger-readers-temporary';

/*
 * The runtime's one reader of the payment journals for the operator tools:
 * the admin API (and the sidebar) and the wonder-journal node ask the same
 * JournalSource, so a file is read once and a period kept once, whichever
 * of them asks first. One per journals' directory (a runtime has one user
 * directory); the plugin and the nodes are separate modules, each given its
 * own RED, so the instance lives here rather than in either.
 */

const sources = new Map<string, JournalSource>();

/** `<userDir>/wonder-ecr`: where the terminals keep their journals (see wonder-terminal). */
export function journalDir(RED: Pick<NodeAPI, 'settings'>): string {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
  return path.resolve(userDir, 'wonder-ecr');
}

/** The runtime's JournalSource (made on first ask). */
export function runtimeJournalSource(RED: Pick<NodeAPI, 'settings'>): JournalSource {
  const dir = journalDir(RED);
  let source = sources.get(dir);
  if (source === undefined) sources.set(dir, (source = new JournalSource(dir)));
  return source;
}
