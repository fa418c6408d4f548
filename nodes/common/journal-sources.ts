import { readJournalFile, withArchives, type JournalEntry, type JournalPeriod } from '../../lib/session';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/**
 * A deployed terminal's journal entries, for the operator tools: its
 * in-memory view where its journal is open (the file a writer appends to is
 * not read again), else its file; with the archives the period needs. The
 * journal is the terminal's (named for its identity), so its entries are
 * labelled with the config node deployed now, even those an earlier config
 * node of the same terminal recorded.
 */
export function terminalJournalEntries(reg: RegisteredTerminal, period?: JournalPeriod): JournalEntry[] {
  const live = reg.handle.journal;
  const entries = live !== undefined ? withArchives(reg.journalFile, live.all(), period) : readJournalFile(reg.journalFile, period);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.terminal !== reg.id) entries[i] = { ...e, terminal: reg.id };
  }
  return entries;
}

/** A deployed terminal by its config node id, else by its name (undefined when none or several have it). */
export function findTerminal(idOrName: string): RegisteredTerminal | undefined {
  const byId = registeredTerminal(idOrName);
  if (byId !== undefined) return byId;
  const named = registeredTerminals().filter((t) => t.name === idOrName);
  return named.length === 1 ? named[0] : undefined;
}
