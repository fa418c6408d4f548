import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { checkTerminalConfig, type TerminalConfig } from '../lib/config';
import { openPaymentsIn } from '../lib/journal';
import { isWonderError, ValidationError } from '../lib/errors';
import { validateTimeoutSeconds } from '../lib/validate';
import type { BusyPolicy } from '../lib/session';
import { describeError, t } from './common/i18n';
import { TerminalHandle } from './common/terminal-handle';
import { listSerialPorts, SERIAL_BY_ID_DIR } from './common/serial-ports';
import { healthCheckMs } from './common/health-check';
import type { TerminalConfigNode } from './common/action-node';

interface TerminalDef extends NodeDef {
  transport: string;
  serialPort?: string;
  baudRate?: string | number;
  host?: string;
  port?: string | number;
  cloudEnv?: string;
  cloudUrl?: string;
  businessId?: string;
  deviceSn?: string;
  clientDeviceSN?: string;
  timeout?: string | number;
  resolveTimeout?: string | number;
  pollInterval?: string | number;
  healthCheck?: string | number;
  busyPolicy?: string;
}

interface TerminalCredentials {
  pairingCode?: string;
}

/** The placeholder the editor sends for a stored password it does not show. */
const STORED = '__PWRD__';
const PAIR_TIMEOUT_MS = 15_000;

function configOf(def: Partial<TerminalDef>): TerminalConfig {
  const config: TerminalConfig = { transport: def.transport ?? '' };
  for (const key of ['serialPort', 'baudRate', 'host', 'port', 'cloudEnv', 'cloudUrl', 'businessId', 'deviceSn'] as const) {
    const value = def[key];
    if (value !== undefined && value !== '') (config as unknown as Record<string, unknown>)[key] = value;
  }
  return config;
}

function sameConfig(a: TerminalConfig, b: TerminalConfig): boolean {
  const keys = ['transport', 'serialPort', 'baudRate', 'host', 'port', 'cloudEnv', 'cloudUrl', 'businessId', 'deviceSn'] as const;
  return keys.every((k) => String(a[k] ?? '') === String(b[k] ?? ''));
}

let registered: { events: NodeAPI['events']; listener: () => void } | undefined;

export = function register(RED: NodeAPI): void {
  /**
   * One journal per terminal, in the Node-RED user directory, named for the
   * terminal (its port, host or business and device), not for the config node:
   * a config node re-created or imported under a new id finds its terminal's
   * open payments again.
   */
  const journalFile = (identity: string) =>
    path.join((RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red'), 'wonder-ecr', `journal-${identity.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
  /** Journal files in use by the terminals deployed now. */
  const journalsInUse = new Set<string>();
  // After each deploy: a journal with open payments that no deployed terminal uses
  // (a serial adapter now under another path, a terminal removed) is worth a warning.
  const onFlowsStarted = () => {
    const dir = path.dirname(journalFile('x'));
    let files: string[];
    try {
      files = fs.readdirSync(dir).filter((f) => /^journal-.*\.jsonl$/.test(f));
    } catch {
      return;
    }
    for (const f of files) {
      const file = path.join(dir, f);
      if (journalsInUse.has(file)) continue;
      const open = openPaymentsIn(file);
      if (open > 0) RED.log.warn(t(RED, 'log.orphanedJournal', { file, count: open }));
    }
  };
  // Registered once per runtime: a second registration (tests load the module again) replaces the first.
  registered?.events.off('flows:started', registered.listener);
  RED.events.on('flows:started', onFlowsStarted);
  registered = { events: RED.events, listener: onFlowsStarted };
  const identityOf = (def: TerminalDef, id: string): string => {
    switch (def.transport) {
      case 'serial':
        return `serial-${def.serialPort ?? ''}`;
      case 'lan':
        return `lan-${def.host ?? ''}-${def.port || 8443}`;
      case 'cloud':
        return `cloud-${def.businessId ?? ''}-${def.deviceSn || 'any'}`;
      default:
        return `simulator-${id}`;
    }
  };

  function WonderTerminalNode(this: TerminalConfigNode & Node<TerminalCredentials>, def: TerminalDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let paymentTimeoutMs = 120_000;
    let resolveTimeoutMs: number | undefined;
    let statusPollIntervalMs: number | undefined;
    let healthMs = 0;
    let timeoutError: unknown;
    try {
      const seconds = (value: unknown, field: string) => (value === undefined || value === '' ? undefined : validateTimeoutSeconds(value, field) * 1000);
      paymentTimeoutMs = seconds(def.timeout, 'timeout') ?? paymentTimeoutMs;
      resolveTimeoutMs = seconds(def.resolveTimeout, 'resolveTimeout');
      statusPollIntervalMs = seconds(def.pollInterval, 'pollInterval');
      healthMs = healthCheckMs(def.healthCheck);
    } catch (err) {
      timeoutError = err;
    }
    const busyPolicy: BusyPolicy = def.busyPolicy === 'reject' ? 'reject' : 'queue';
    const myJournal = journalFile(identityOf(def, node.id));
    journalsInUse.add(myJournal);
    node.wonder = new TerminalHandle({
      config: configOf(def),
      pairingCode: node.credentials?.pairingCode,
      ...(def.clientDeviceSN ? { clientDeviceSN: def.clientDeviceSN } : {}),
      paymentTimeoutMs,
      busyPolicy,
      ...(resolveTimeoutMs !== undefined ? { resolveTimeoutMs } : {}),
      ...(statusPollIntervalMs !== undefined ? { statusPollIntervalMs } : {}),
      journalFile: myJournal,
      terminalId: identityOf(def, node.id),
      healthCheckMs: healthMs,
    });
    const handle = node.wonder;
    const problem = timeoutError ?? handle.configError;
    if (problem !== undefined) {
      node.error(t(RED, 'errors.config', { detail: describeError(RED, problem) }));
    } else {
      handle.on('state', (state: string, err?: Error) => {
        // The port path or host is not secret; error texts from the transports carry no secrets.
        if (state.startsWith('unreachable')) node.warn(t(RED, 'log.unreachable', { detail: err?.message ?? '' }));
        else if (state === 'connected') node.log(t(RED, 'log.connected'));
      });
      // A payment settled after the fact whose node is gone (deleted, re-imported): say so.
      handle.on('recovered', (r: { entry: { node?: string; referenceID: string }; outcome?: { result?: string } }) => {
        if (r.entry.node === undefined || RED.nodes.getNode(r.entry.node) === null) {
          node.warn(t(RED, 'log.recoveredOrphan', { referenceID: r.entry.referenceID, result: r.outcome?.result ?? '?' }));
        }
      });
      handle.on('health', (err: unknown) => node.debug(t(RED, 'log.healthCheckFailed', { detail: err instanceof Error ? err.message : String(err) })));
      handle.open().catch((err: unknown) => node.warn(t(RED, 'log.openFailed', { detail: err instanceof Error ? err.message : String(err) })));
    }
    node.on('close', (_removed: boolean, done: () => void) => {
      journalsInUse.delete(myJournal);
      handle.close().then(done, done);
    });
  }

  RED.nodes.registerType('wonder-terminal', WonderTerminalNode as never, {
    credentials: {
      pairingCode: { type: 'password' },
    },
  });

  // ---- editor endpoints (behind the editor's own authentication and permissions) ----

  RED.httpAdmin.get('/wonder-ecr/serialports', RED.auth.needsPermission('wonder-terminal.read'), (_req: Request, res: Response) => {
    // SerialPort.list() needs udevadm (and never lists ptys); the by-id links are read directly.
    const byIdDir = (RED.settings as { wonderEcr?: { serialByIdDir?: string } }).wonderEcr?.serialByIdDir ?? SERIAL_BY_ID_DIR;
    listSerialPorts(() => import('serialport').then(({ SerialPort }) => SerialPort.list()), byIdDir).then(
      (ports) => res.json({ ports }),
      (err: unknown) => res.json({ ports: [], error: err instanceof Error ? err.message : String(err) }),
    );
  });

  RED.httpAdmin.post('/wonder-ecr/pair', RED.auth.needsPermission('wonder-terminal.write'), (req: Request, res: Response) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as {
      id?: unknown;
      config?: Partial<TerminalDef>;
      pairingCode?: unknown;
    };
    const id = typeof body.id === 'string' ? body.id : '';
    const config = configOf(typeof body.config === 'object' && body.config !== null ? body.config : {});
    let code = typeof body.pairingCode === 'string' ? body.pairingCode : '';
    const deployed = id === '' ? null : (RED.nodes.getNode(id) as (TerminalConfigNode & Node<TerminalCredentials>) | null);
    if (code === STORED || code === '') {
      // The stored code goes only to the terminal it was stored for: never to a host
      // or port given in this request (that would hand out data encrypted under it).
      const stored = deployed !== null && sameConfig(configOf(deployed as unknown as TerminalDef), config)
        ? (RED.nodes.getCredentials(id) as TerminalCredentials | undefined)
        : undefined;
      code = stored?.pairingCode ?? '';
    }
    const reuse =
      deployed !== null &&
      deployed.wonder !== undefined &&
      deployed.wonder.session !== undefined &&
      sameConfig(configOf(deployed as unknown as TerminalDef), config) &&
      (deployed.credentials?.pairingCode ?? '') === code;

    const run = async () => {
      checkTerminalConfig(config);
      if (reuse) return deployed.wonder.pair({ timeoutMs: PAIR_TIMEOUT_MS });
      // A terminal not deployed yet (or changed in the dialog): pair over a temporary session.
      const temporary = new TerminalHandle({ config, pairingCode: code, paymentTimeoutMs: 120_000, busyPolicy: 'reject' });
      if (temporary.session === undefined) throw temporary.configError ?? new ValidationError('transport', 'is not usable');
      try {
        await temporary.open().catch(() => undefined);
        return await temporary.pair({ timeoutMs: PAIR_TIMEOUT_MS });
      } finally {
        await temporary.close();
      }
    };
    run().then(
      ({ ack }) => {
        const info = ack.body as { deviceStatus?: string; networkStatus?: string; softwareVersion?: string; businessID?: string };
        res.json({
          ok: true,
          deviceSn: ack.header.serverDeviceSN,
          softwareVersion: info.softwareVersion ?? '',
          deviceStatus: info.deviceStatus ?? '',
          networkStatus: info.networkStatus ?? '',
          businessID: info.businessID ?? '',
        });
      },
      (err: unknown) => {
        const code = isWonderError(err) ? err.code : 'E_UNKNOWN';
        const status = code === 'E_VALIDATION' ? 400 : code === 'E_SECURITY' ? 403 : 502;
        const message = code === 'E_SECURITY' ? t(RED, 'errors.wrongPairingCode') : describeError(RED, err);
        res.status(status).json({ ok: false, code, field: isWonderError(err) ? err.field : undefined, message });
      },
    );
  });
};
