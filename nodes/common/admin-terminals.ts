import type { LineCounters } from '../../lib/transport';
import type { RegisteredTerminal } from './terminal-registry';

/** What the diagnostics name as a terminal's trouble (see the handle's diagnosis()). */
export interface DiagnosisView {
  code: string;
  since: string;
  detail?: string;
  /** For a serial port gone: the ports there now. */
  ports?: string[];
}

/** One terminal as the sidebar and fleet tools see it: nothing secret, no card data. */
export interface TerminalView {
  id: string;
  name: string;
  transport: string;
  address: string;
  identity: string;
  /** The connection state (ready, unreachable:<cause>, …: see ConnectionState). */
  state: string;
  /** A simulator (the simulator transport, or a simulated terminal answered): no real payment is taken. */
  simulated: boolean;
  diagnosis: DiagnosisView | null;
  /** Why the config node is unusable, when it is (its error code and field). */
  configError: { code: string; field?: string } | null;
  device: { sn: string | null; softwareVersion: string | null };
  lastExchangeAt: string | null;
  counters: LineCounters;
  openPayments: number;
}

/** The diagnosis, where the handle has one (diagnostics adds `diagnosis()`). */
function diagnosisOf(handle: RegisteredTerminal['handle']): DiagnosisView | null {
  const diagnose = (handle as unknown as { diagnosis?: () => DiagnosisView | undefined }).diagnosis;
  const found = typeof diagnose === 'function' ? diagnose.call(handle) : undefined;
  if (found === undefined) return null;
  return {
    code: String(found.code),
    since: String(found.since),
    ...(found.detail !== undefined ? { detail: String(found.detail) } : {}),
    ...(Array.isArray(found.ports) ? { ports: found.ports.map(String) } : {}),
  };
}

export function terminalView(t: RegisteredTerminal): TerminalView {
  const h = t.handle;
  const error = h.configError as { code?: string; field?: string } | undefined;
  return {
    id: t.id,
    name: t.name,
    transport: t.transport,
    address: t.address,
    identity: t.identity,
    state: h.state,
    simulated: h.simulated === true,
    diagnosis: diagnosisOf(h),
    configError: error === undefined ? null : { code: String(error.code ?? 'E_VALIDATION'), ...(error.field !== undefined ? { field: String(error.field) } : {}) },
    device: { sn: h.device.sn ?? null, softwareVersion: h.device.softwareVersion ?? null },
    lastExchangeAt: h.lastExchangeAt ?? null,
    counters: { ...h.counters },
    openPayments: h.journal?.openCount ?? 0,
  };
}
