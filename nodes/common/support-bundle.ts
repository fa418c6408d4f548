import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TerminalConfig, TraceRecord } from '../../lib/session';
import type { LineCounters } from '../../lib/transport';
import type { RegisteredTerminal } from './terminal-registry';
import type { NodeDiagnosis, Terminal } from '../../lib/terminal';

/** The settings of a terminal a support desk may see: where and how it is reached, never a credential. */
const CONFIG_KEYS = ['transport', 'serialPort', 'baudRate', 'host', 'port', 'https', 'caFile', 'tlsFingerprint', 'cloudEnv', 'cloudUrl', 'cloudInfoUrl', 'businessId', 'deviceSn'] as const;

/** What a technician sends a support desk about one terminal: JSON, no secret, no card data, no ciphertext. */
export interface SupportBundle {
  generatedAt: string;
  versions: { package: string; node: string; nodeRed?: string; platform: string };
  terminal: { id?: string; name?: string; identity?: string; address?: string; config: Partial<Record<(typeof CONFIG_KEYS)[number], string | number | boolean>> };
  state: string;
  diagnosis?: NodeDiagnosis;
  counters: LineCounters;
  device: { sn?: string; softwareVersion?: string };
  lastExchangeAt?: string;
  /** Payments whose outcome is still unknown: reference, action, amount, currency, when. */
  openPayments: Array<{ referenceID: string; action: string; amount?: string; currency?: string; openedAt: string }>;
  /** The last exchanges, oldest first (see TraceRecord). */
  trace: TraceRecord[];
}

let packageVersion: string | undefined;

/** This package's version, from its package.json (found from here, in the sources or in dist/). */
function ownVersion(): string {
  if (packageVersion !== undefined) return packageVersion;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'node-red-contrib-wonder-ecr') return (packageVersion = pkg.version ?? 'unknown');
    } catch {
      // No package.json here: look further up.
    }
    if (path.dirname(dir) === dir) return (packageVersion = 'unknown');
  }
}

function safeConfig(config: TerminalConfig | undefined): SupportBundle['terminal']['config'] {
  const out: SupportBundle['terminal']['config'] = {};
  for (const key of CONFIG_KEYS) {
    const value = config?.[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

/**
 * One terminal's support bundle: versions, its settings without
 * credentials, state, diagnosis, line counters, what the terminal said of
 * itself, its open payments and its trace. `about` adds the config node's
 * registration and the Node-RED version (RED.version()).
 */
export function supportBundle(handle: Terminal, about: { terminal?: Partial<Pick<RegisteredTerminal, 'id' | 'name' | 'identity' | 'address'>>; nodeRed?: string } = {}): SupportBundle {
  const t = about.terminal ?? {};
  const diagnosis = handle.diagnosis();
  return {
    generatedAt: new Date().toISOString(),
    versions: { package: ownVersion(), node: process.version, ...(about.nodeRed !== undefined ? { nodeRed: about.nodeRed } : {}), platform: `${process.platform}-${process.arch}` },
    terminal: {
      ...(t.id !== undefined ? { id: t.id } : {}),
      ...(t.name !== undefined ? { name: t.name } : {}),
      ...(t.identity !== undefined ? { identity: t.identity } : {}),
      ...(t.address !== undefined ? { address: t.address } : {}),
      config: safeConfig(handle.config),
    },
    state: handle.state,
    ...(diagnosis !== undefined ? { diagnosis } : {}),
    counters: { ...handle.counters },
    device: { ...(handle.device.sn !== undefined ? { sn: handle.device.sn } : {}), ...(handle.device.softwareVersion !== undefined ? { softwareVersion: handle.device.softwareVersion } : {}) },
    ...(handle.lastExchangeAt !== undefined ? { lastExchangeAt: handle.lastExchangeAt } : {}),
    openPayments: handle.openPayments().map((e) => ({
      referenceID: e.referenceID,
      action: e.action,
      ...(e.amount !== undefined ? { amount: e.amount } : {}),
      ...(e.currency !== undefined ? { currency: e.currency } : {}),
      openedAt: e.openedAt,
    })),
    trace: handle.trace.list().map((r) => ({ ...r })),
  };
}
