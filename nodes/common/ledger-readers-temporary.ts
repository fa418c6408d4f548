/*
 * TEMPORARY readers of the ledger for the operator tools (the admin API, the
 * sidebar, the wonder-journal node): one SQL query per ask over the runtime's
 * ledger, answered through the same JournalReader shape the answers use. The
 * bounded, paged readers replace this file.
 */
import * as path from 'node:path';
import { LEDGER_FILE_NAME, openLedgerOf, readLedgerFile, selectPayments, type JournalEntry, type PaymentSelection } from '../../lib/ledger';
import type { JournalParams } from './admin-params';
import { registeredTerminal, type RegisteredTerminal } from './terminal-registry';

/** One set of payments a query covers: the deployed terminal they belong to (none: any terminal), and its reader. */
export interface JournalReader {
  terminal?: RegisteredTerminal;
  read: () => Promise<JournalEntry[]>;
  /** Not given by these readers (the answers then compute from read()). */
  view?: undefined;
}

type Period = { from?: string; to?: string };

interface Where {
  period: Period;
  openOnly: boolean;
  terminal?: RegisteredTerminal;
}

function selectionOf(w: Where): PaymentSelection {
  const sn = w.terminal?.handle.device.sn;
  return {
    ...w.period,
    openOnly: w.openOnly,
    ...(w.terminal !== undefined ? { terminal: w.terminal.identity } : {}),
    ...(sn !== undefined ? { deviceSn: sn } : {}),
  };
}

/** The runtime's ledger, for the operator tools. */
export class JournalSource {
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, LEDGER_FILE_NAME);
  }

  /** Entries held for views (none: every ask is a query). */
  get heldEntries(): number {
    return 0;
  }

  private read(w: Where): JournalEntry[] {
    const open = openLedgerOf(this.file);
    if (open !== undefined && !open.closed) return selectPayments((sql, params) => open.query(sql, params), selectionOf(w));
    return readLedgerFile(this.file, selectionOf(w));
  }

  private reader(w: Where): JournalReader {
    return { ...(w.terminal !== undefined ? { terminal: w.terminal } : {}), read: () => Promise.resolve(this.read(w)) };
  }

  private static period(params: Pick<JournalParams, 'from' | 'to'>): Period {
    return { ...(params.from !== undefined ? { from: params.from } : {}), ...(params.to !== undefined ? { to: params.to } : {}) };
  }

  /** These deployed terminals' payments, one reader each. */
  readersOf(terminals: RegisteredTerminal[], params: Pick<JournalParams, 'from' | 'to' | 'state'>): JournalReader[] {
    return terminals.map((terminal) => this.reader({ period: JournalSource.period(params), openOnly: params.state === 'open', terminal }));
  }

  /** `terminal` a deployed terminal's id → its payments; else every payment (the `terminal` then matched against the payments' own terminal name). */
  sources(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): JournalReader[] {
    const deployed = params.terminal === undefined ? undefined : registeredTerminal(params.terminal);
    return [this.reader({ period: JournalSource.period(params), openOnly: params.state === 'open', ...(deployed !== undefined ? { terminal: deployed } : {}) })];
  }

  async entries(params: Pick<JournalParams, 'terminal' | 'from' | 'to' | 'state'>): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const s of this.sources(params)) for (const e of await s.read()) out.push(e);
    return out;
  }
}

/** The deployed terminals (for callers that list them). */
