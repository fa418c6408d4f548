import { terminalView, type TerminalView } from './admin-terminals';
import type { TraceRecord } from '../../lib/session';
import type { RegisteredTerminal } from './terminal-registry';

/**
 * The support bundle the sidebar downloads for one terminal: its summary
 * (state, diagnosis, device, counters) and its redacted trace. No
 * ciphertext, card data or secret: the trace holds none, the summary none.
 */
export function supportBundleOf(t: RegisteredTerminal): { generatedAt: string; terminal: TerminalView; trace: TraceRecord[] } {
  return { generatedAt: new Date().toISOString(), terminal: terminalView(t), trace: t.handle.trace.list() };
}
