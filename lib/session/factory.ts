import { ValidationError } from '../protocol';
import type { SimulatedTerminal } from '../simulator';
import { CloudTransport, LanTransport, normalizeFingerprint, readCaFile, SerialTransport } from '../transport';
import type { Transport, TransportKind } from '../transport';
import { SimulatorTransport } from '../simulator';

/** How to reach a terminal: what a config node or the CLI gives. */
export interface TerminalConfig {
  transport: TransportKind | string;
  serialPort?: string;
  baudRate?: number | string;
  host?: string;
  port?: number | string;
  /** LAN: use https:// (with an optional CA file for a self-signed certificate). */
  https?: boolean;
  /** LAN or cloud: a PEM CA file to trust. */
  caFile?: string;
  /** LAN: SHA-256 fingerprint of the terminal's certificate to pin (implies https). */
  tlsFingerprint?: string;
  cloudEnv?: 'staging' | 'production' | 'custom' | string;
  cloudUrl?: string;
  /** Cloud, custom endpoint: its ConnectionInfo URL, so an empty device SN can be learnt. */
  cloudInfoUrl?: string;
  businessId?: string;
  deviceSn?: string;
  /** Simulator: an existing simulated terminal to talk to (tests). */
  simulator?: SimulatedTerminal;
  /** Simulator: its card delay in ms. */
  simulatorCardDelayMs?: number;
  /** Serial: reconnect backoff (a one-shot caller may want it short). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

function integerIn(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError(field, `must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function required(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field, `is required for ${what}`);
  return value.trim();
}

const HOST = /^(\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+|[A-Za-z0-9.\-]{1,253})$/;

/** Checks a terminal config and names the first bad field. Throws ValidationError. */
export function checkTerminalConfig(config: TerminalConfig): void {
  switch (config.transport) {
    case 'serial':
      required(config.serialPort, 'serialPort', 'a serial terminal');
      integerIn(config.baudRate, 'baudRate', 300, 4_000_000, 115_200);
      return;
    case 'lan': {
      const host = required(config.host, 'host', 'a LAN terminal');
      if (!HOST.test(host)) throw new ValidationError('host', 'must be an IP address or a host name, without http:// or a port');
      integerIn(config.port, 'port', 1, 65_535, 8443);
      if (config.tlsFingerprint !== undefined && config.tlsFingerprint !== '') normalizeFingerprint(config.tlsFingerprint, 'tlsFingerprint');
      return;
    }
    case 'cloud':
      required(config.businessId, 'businessId', 'a cloud terminal');
      if (config.cloudEnv === 'custom' || (config.cloudEnv !== 'staging' && config.cloudEnv !== 'production')) {
        const url = required(config.cloudUrl, 'cloudUrl', 'a custom cloud endpoint');
        if (!/^https:\/\/[^\s]+$/.test(url)) throw new ValidationError('cloudUrl', 'must be an https:// URL');
        if (config.cloudInfoUrl !== undefined && config.cloudInfoUrl !== '') {
          if (!/^https:\/\/[^\s]+$/.test(config.cloudInfoUrl.trim())) throw new ValidationError('cloudInfoUrl', 'must be an https:// URL');
        } else {
          // No ConnectionInfo URL is known for this custom endpoint: the device SN cannot be learnt.
          required(config.deviceSn, 'deviceSn', 'a custom cloud endpoint');
        }
      }
      return;
    case 'simulator':
      return;
    default:
      // No default: a terminal never becomes a simulator by being left unset.
      if (typeof config.transport !== 'string' || config.transport.trim() === '') throw new ValidationError('transport', 'is not chosen (serial, lan, cloud or simulator)');
      throw new ValidationError('transport', 'must be serial, lan, cloud or simulator');
  }
}

/** Builds the transport a config describes (after checking it). */
export function createTransport(config: TerminalConfig): Transport {
  checkTerminalConfig(config);
  switch (config.transport) {
    case 'serial':
      return new SerialTransport({
        path: config.serialPort!.trim(),
        baudRate: integerIn(config.baudRate, 'baudRate', 300, 4_000_000, 115_200),
        ...(config.reconnect !== undefined ? { reconnect: config.reconnect } : {}),
      });
    case 'lan': {
      const port = integerIn(config.port, 'port', 1, 65_535, 8443);
      const host = config.host!.trim().replace(/^\[|\]$/g, '');
      const fingerprint = config.tlsFingerprint !== undefined && config.tlsFingerprint !== '' ? normalizeFingerprint(config.tlsFingerprint, 'tlsFingerprint') : undefined;
      const ca = config.caFile !== undefined && config.caFile !== '' ? readCaFile(config.caFile) : undefined;
      if (ca !== undefined || fingerprint !== undefined) {
        return new LanTransport({ host, port, https: true, ...(ca !== undefined ? { ca } : {}), ...(fingerprint !== undefined ? { fingerprint } : {}) });
      }
      return new LanTransport({ host, port, https: config.https === true });
    }
    case 'cloud': {
      const env = config.cloudEnv === 'staging' || config.cloudEnv === 'production' ? config.cloudEnv : 'custom';
      return new CloudTransport({
        env,
        businessId: config.businessId!.trim(),
        ...(config.deviceSn ? { deviceSn: config.deviceSn.trim() } : {}),
        ...(env === 'custom' ? { commandUrl: config.cloudUrl!.trim() } : {}),
        ...(env === 'custom' && config.cloudInfoUrl ? { infoUrl: config.cloudInfoUrl.trim() } : {}),
        ...(config.caFile !== undefined && config.caFile !== '' ? { ca: readCaFile(config.caFile) } : {}),
      });
    }
    default:
      return new SimulatorTransport(
        config.simulator !== undefined
          ? { terminal: config.simulator }
          : config.simulatorCardDelayMs !== undefined
            ? { cardDelayMs: config.simulatorCardDelayMs }
            : {},
      );
  }
}

/**
 * A terminal's name in its journal: its serial port, LAN host and port, or
 * cloud business and device, not the name of whatever configures it, so a
 * config node re-created under a new id (or the command line) finds its open
 * payments again. The simulator has no identity of its own: `fallbackId`.
 */
export function terminalIdentity(config: Pick<TerminalConfig, 'transport' | 'serialPort' | 'host' | 'port' | 'businessId' | 'deviceSn'>, fallbackId: string): string {
  switch (config.transport) {
    case 'serial':
      return `serial-${config.serialPort ?? ''}`;
    case 'lan':
      return `lan-${config.host ?? ''}-${config.port || 8443}`;
    case 'cloud':
      return `cloud-${config.businessId ?? ''}-${config.deviceSn || 'any'}`;
    default:
      return `simulator-${fallbackId}`;
  }
}

/** The journal's file name for a terminal identity. */
export function journalFileName(identity: string): string {
  return `journal-${identity.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}
