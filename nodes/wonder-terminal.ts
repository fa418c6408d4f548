import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { checkTerminalConfig, faultOfError, type TerminalConfig, terminalIdentity } from '../lib/session';
import { LEDGER_FILE_NAME, openLedgerOf } from '../lib/ledger';
import { ledgerOwnerOf } from './common/ledger-owner';
import { CloudTransport } from '../lib/transport';
import { isWonderError, validateSecondsMs, ValidationError } from '../lib/protocol';
import type { BusyPolicy, PairingStore } from '../lib/session';
import { describeError, t } from './common/i18n';
import { healthCheckMs, IDENTITY_CHECK_MS, listSerialPorts, nodeRedPairingStore, SERIAL_BY_ID_DIR, stableAlternative, Terminal, type NodeDiagnosis } from '../lib/terminal';
import { warnExposedGatewayFiles } from './common/gateway-files';
import { jsonOnly, PairLimiter, pairTargetKey, pairUserKey } from './common/pair-guard';
import { deregisterTerminal, registeredTerminals, registerTerminal } from './common/terminal-registry';
import { SameTerminalError, sameTerminalAs } from './common/same-terminal';
import type { TerminalConfigNode } from './common/action-node';
import { diagnosisLogLine } from './common/diagnosis-text';

interface TerminalDef extends NodeDef {
  transport: string;
  serialPort?: string;
  baudRate?: string | number;
  host?: string;
  port?: string | number;
  cloudEnv?: string;
  cloudUrl?: string;
  cloudInfoUrl?: string;
  businessId?: string;
  deviceSn?: string;
  /** LAN over TLS: https, a CA file on this host, a pinned certificate fingerprint. */
  https?: boolean | string;
  caFile?: string;
  tlsFingerprint?: string;
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
  for (const key of ['serialPort', 'baudRate', 'host', 'port', 'cloudEnv', 'cloudUrl', 'cloudInfoUrl', 'businessId', 'deviceSn', 'caFile', 'tlsFingerprint'] as const) {
    const value = def[key];
    if (value !== undefined && value !== '') (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (def.transport === 'lan' && (def.https === true || def.https === 'true')) config.https = true;
  return config;
}

function sameConfig(a: TerminalConfig, b: TerminalConfig): boolean {
  // TLS settings too: the stored code goes only where, and as, the deployed node would send it.
  const keys = ['transport', 'serialPort', 'baudRate', 'host', 'port', 'cloudEnv', 'cloudUrl', 'cloudInfoUrl', 'businessId', 'deviceSn', 'https', 'caFile', 'tlsFingerprint'] as const;
  return keys.every((k) => String(a[k] ?? '') === String(b[k] ?? ''));
}

/** Where the terminal is: port, host:port or business/device (never a secret). */
function addressOf(def: Partial<TerminalDef>): string {
  switch (def.transport) {
    case 'serial':
      return def.serialPort ?? '';
    case 'lan':
      return `${def.host ?? ''}:${def.port || 8443}`;
    case 'cloud':
      return `${def.businessId ?? ''}/${def.deviceSn || ''}`;
    default:
      return '';
  }
}

let registered: { events: NodeAPI['events']; listener: () => void } | undefined;
/** References named in the one warning of the payments a recovery left unknown (the rest are counted). */
const UNRESOLVED_LISTED = 20;

/** An HTTP status a terminal or gateway answered with, where an error (or its causes) says so ("answered HTTP 404"). */
function answeredHttpStatus(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const m = /answered HTTP (\d{3})/.exec(e instanceof Error ? e.message : '');
    if (m !== null) return Number(m[1]);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a failed Pair tells the dialog of its cause: the diagnosis code and, for an HTTP error, the status. */
function pairFailureCause(err: unknown, openError: unknown, stream: boolean): { diagnosis?: string; httpStatus?: number } {
  const diagnosis = faultOfError(err, stream) ?? (openError !== undefined ? faultOfError(openError, stream) : undefined);
  if (diagnosis === undefined) return {};
  const httpStatus = diagnosis === 'http-error' || diagnosis === 'gateway-error' ? answeredHttpStatus(err) ?? answeredHttpStatus(openError) : undefined;
  return { diagnosis, ...(httpStatus !== undefined ? { httpStatus } : {}) };
}

/** LAN over plain HTTP: no HTTPS, no CA file, no certificate pin. */
function plainLan(def: Partial<TerminalDef>): boolean {
  const https = def.https === true || def.https === 'true';
  return def.transport === 'lan' && !https && !def.caFile && !def.tlsFingerprint;
}

/** Terminals (node id and address) already warned of plain HTTP: the warning is logged once per runtime, not at every deploy. */
const warnedPlainLan = new Set<string>();

export = function register(RED: NodeAPI): void {
  // Node-RED's credentials file and its key readable by other local users: said once, with the fix.
  warnExposedGatewayFiles(RED);
  const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
  /** One ledger per runtime, in the Node-RED user directory, shared by every terminal; payments carry the terminal's place and SN as data. */
  const ledgerFile = path.join(userDir, 'wonder-ecr', LEDGER_FILE_NAME);
  /** This runtime: the ledger's owner (a second runtime on the same user directory is refused, in this process too). */
  const ledgerOwner = ledgerOwnerOf(RED);
  const retentionDays = (RED.settings as { wonderEcr?: { retentionDays?: unknown } }).wonderEcr?.retentionDays;
  // After each deploy: open payments of a place no deployed terminal uses (a serial adapter now under
  // another path, a terminal removed) are worth a warning, once the terminals have said their SNs.
  const onFlowsStarted = () => {
    /** Open payments no deployed terminal takes up: `bySn` those that carry an SN (looked at once the terminals have said theirs), else those that carry none. */
    const warn = (bySn: boolean) => {
      const ledger = openLedgerOf(ledgerFile);
      if (ledger === undefined || ledger.closed) return;
      const deployed = registeredTerminals().filter((r) => r.handle.configError === undefined);
      const places = new Set(deployed.map((r) => r.identity));
      const sns = new Set(deployed.map((r) => r.handle.device.sn).filter((sn): sn is string => sn !== undefined));
      const orphaned = new Map<string, number>();
      for (const p of ledger.openPlaces()) {
        if ((p.deviceSn !== undefined) !== bySn || places.has(p.terminal) || (p.deviceSn !== undefined && sns.has(p.deviceSn))) continue;
        orphaned.set(p.terminal, (orphaned.get(p.terminal) ?? 0) + p.count);
      }
      for (const [terminal, count] of orphaned) RED.log.warn(t(RED, 'log.orphanedJournal', { file: terminal, count }));
    };
    warn(false);
    // An SN's payments are taken up once its terminal has said its SN (an adapter under a new path): looked at after that check.
    setTimeout(() => warn(true), IDENTITY_CHECK_MS + 1_000).unref();
  };
  // Registered once per runtime: a second registration (tests load the module again) replaces the first.
  registered?.events.off('flows:started', registered.listener);
  RED.events.on('flows:started', onFlowsStarted);
  registered = { events: RED.events, listener: onFlowsStarted };
  // Cloud pairings (pinCode2) kept across restarts, encrypted under Node-RED's credential secret.
  let store: PairingStore | undefined;
  const pairingStore = (): PairingStore | undefined => {
    try {
      store ??= nodeRedPairingStore(RED.settings, userDir, ledgerOwner);
    } catch (err) {
      RED.log.warn(t(RED, 'log.openFailed', { detail: err instanceof Error ? err.message : String(err) }));
    }
    return store;
  };
  const identityOf = (def: TerminalDef, id: string): string => terminalIdentity(def, id);

  function WonderTerminalNode(this: TerminalConfigNode & Node<TerminalCredentials>, def: TerminalDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let paymentTimeoutMs = 120_000;
    let resolveTimeoutMs: number | undefined;
    let statusPollIntervalMs: number | undefined;
    let healthMs = 0;
    let timeoutError: unknown;
    try {
      const seconds = (value: unknown, field: string) => (value === undefined || value === '' ? undefined : validateSecondsMs(value, field));
      paymentTimeoutMs = seconds(def.timeout, 'timeout') ?? paymentTimeoutMs;
      resolveTimeoutMs = seconds(def.resolveTimeout, 'resolveTimeout');
      statusPollIntervalMs = seconds(def.pollInterval, 'pollInterval');
      healthMs = healthCheckMs(def.healthCheck);
    } catch (err) {
      timeoutError = err;
    }
    const busyPolicy: BusyPolicy = def.busyPolicy === 'reject' ? 'reject' : 'queue';
    // Terminal identity: the terminal's SN is learnt and recorded (not the simulator's); one config node per terminal.
    const followDeviceSn = def.transport === 'serial' || def.transport === 'lan' || def.transport === 'cloud';
    const known = followDeviceSn ? openLedgerOf(ledgerFile)?.knownSn(identityOf(def, node.id)) : undefined;
    const same = sameTerminalAs({ id: node.id, transport: def.transport, address: addressOf(def), ...(known !== undefined ? { sn: known } : {}) }, registeredTerminals());
    const sameText = (other: { id: string; name: string; address: string }) => t(RED, 'errors.sameTerminal', { other: other.name || other.id, address: other.address });
    const refuse = same !== undefined ? new SameTerminalError(sameText(same)) : undefined;
    node.wonder = new Terminal({
      ...(refuse !== undefined ? { refuse } : {}),
      followDeviceSn,
      config: configOf(def),
      pairingCode: node.credentials?.pairingCode,
      ...(def.clientDeviceSN ? { clientDeviceSN: def.clientDeviceSN } : {}),
      paymentTimeoutMs,
      busyPolicy,
      ...(resolveTimeoutMs !== undefined ? { resolveTimeoutMs } : {}),
      ...(statusPollIntervalMs !== undefined ? { statusPollIntervalMs } : {}),
      ledgerFile,
      ledgerOwner,
      ...(typeof retentionDays === 'number' && Number.isFinite(retentionDays) && retentionDays >= 0 ? { retentionDays } : {}),
      terminalId: identityOf(def, node.id),
      configNode: node.id,
      address: addressOf(def),
      snTaken: (sn: string) => registeredTerminals().some((r) => r.id !== node.id && r.handle.configError === undefined && r.handle.device.sn === sn && r.handle.state !== 'same-terminal'),
      ...(def.transport === 'cloud' && pairingStore() !== undefined ? { pairingStore: pairingStore()! } : {}),
      healthCheckMs: healthMs,
    });
    const handle = node.wonder;
    registerTerminal({
      id: node.id,
      name: node.name || `${def.transport} ${def.serialPort ?? def.host ?? def.businessId ?? ''}`.trim(),
      transport: def.transport,
      address: addressOf(def),
      identity: identityOf(def, node.id),
      handle,
    });
    const problem = timeoutError ?? handle.configError;
    if (problem !== undefined) {
      node.error(t(RED, 'errors.config', { detail: describeError(RED, problem) }));
    } else {
      handle.on('state', (state: string, err?: Error) => {
        // The port path or host is not secret; error texts from the transports carry no secrets.
        // A fault the diagnosis names is logged once by its own event (below), with its cause.
        if (state.startsWith('unreachable') && handle.diagnosis() === undefined) node.warn(t(RED, 'log.unreachable', { detail: err?.message ?? '' }));
        else if (state === 'pair-again') node.error(t(RED, 'log.pairAgain', { deviceSn: def.deviceSn || def.businessId || '', detail: t(RED, 'errors.pairAgain') }));
        else if (state === 'connected') node.log(t(RED, 'log.connected'));
      });
      // A payment settled after the fact whose node is gone (deleted, re-imported): say so.
      handle.on('recovered', (r: { entry: { node?: string; referenceID: string }; outcome?: { result?: string } }) => {
        if (r.entry.node === undefined || RED.nodes.getNode(r.entry.node) === null) {
          node.warn(t(RED, 'log.recoveredOrphan', { referenceID: r.entry.referenceID, result: r.outcome?.result ?? '?' }));
        }
      });
      // An old payment still unknown: it no longer holds new ones back, and stays open to be checked. Those one
      // recovery leaves are warned in one line (a terminal with hundreds open logs one line a round, not hundreds).
      let unresolved: Array<{ referenceID: string; action: string }> = [];
      const warnUnresolved = () => {
        const entries = unresolved;
        unresolved = [];
        if (entries.length === 1) node.warn(t(RED, 'log.unresolved', { referenceID: entries[0]!.referenceID, action: entries[0]!.action }));
        else {
          const shown = entries.slice(0, UNRESOLVED_LISTED).map((e) => `${e.action} ${e.referenceID}`).join(', ');
          node.warn(t(RED, 'log.unresolvedMany', { count: entries.length, references: entries.length > UNRESOLVED_LISTED ? `${shown}, …` : shown }));
        }
      };
      handle.on('unresolved', (r: { entry: { referenceID: string; action: string } }) => {
        if (unresolved.push({ referenceID: r.entry.referenceID, action: r.entry.action }) === 1) setImmediate(warnUnresolved);
      });
      // The terminal said its SN: recorded in the ledger, its open payments made elsewhere are this terminal's too.
      handle.on('journal', (to: { sn: string }) => {
        node.log(t(RED, 'log.journalFollowsSn', { sn: to.sn, file: ledgerFile }));
      });
      handle.on('duplicate', (err: Error) => {
        const other = registeredTerminals().find((r) => r.id !== node.id && r.handle.device.sn === (err as { sn?: string }).sn);
        node.error(t(RED, 'errors.config', { detail: other !== undefined ? sameText(other) : err.message }));
      });
      handle.on('diagnosis', (d: NodeDiagnosis) => node.warn(diagnosisLogLine(RED, d)));
      handle.on('health', (err: unknown) => node.debug(t(RED, 'log.healthCheckFailed', { detail: err instanceof Error ? err.message : String(err) })));
      if (plainLan(def) && !warnedPlainLan.has(`${node.id} ${addressOf(def)}`)) {
        // The node's name or id (node.warn) and its address; never the pairing code.
        warnedPlainLan.add(`${node.id} ${addressOf(def)}`);
        node.warn(t(RED, 'log.lanWithoutTls', { address: addressOf(def) }));
      }
      handle.open().catch((err: unknown) => node.warn(t(RED, 'log.openFailed', { detail: err instanceof Error ? err.message : String(err) })));
    }
    node.on('close', (_removed: boolean, done: () => void) => {
      deregisterTerminal(node.id, handle);
      handle.close().then(done, done);
    });
  }

  RED.nodes.registerType('wonder-terminal', WonderTerminalNode as never, {
    credentials: {
      pairingCode: { type: 'password' },
    },
  });

  // ---- editor endpoints (behind the editor's own authentication and permissions) ----

  RED.httpAdmin.get('/wonder-ecr/serialports', RED.auth.needsPermission('wonder-terminal.read'), (req: Request, res: Response) => {
    // SerialPort.list() needs udevadm (and never lists ptys); the by-id links are read directly.
    const byIdDir = (RED.settings as { wonderEcr?: { serialByIdDir?: string } }).wonderEcr?.serialByIdDir ?? SERIAL_BY_ID_DIR;
    // `?stableFor=/dev/ttyUSB0`: also the by-id link that points at that port (the editor suggests it).
    const given = typeof req.query.stableFor === 'string' ? req.query.stableFor : undefined;
    listSerialPorts(() => import('serialport').then(({ SerialPort }) => SerialPort.list()), byIdDir).then(
      async (ports) => res.json(given === undefined ? { ports } : { ports, stable: (await stableAlternative(ports, given)) ?? null }),
      (err: unknown) => res.json({ ports: [], error: err instanceof Error ? err.message : String(err) }),
    );
  });

  const pairLimiter = new PairLimiter();
  RED.httpAdmin.post('/wonder-ecr/pair', RED.auth.needsPermission('wonder-terminal.write'), jsonOnly, (req: Request, res: Response) => {
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

    // One attempt at a time per terminal and user; failures cost time (keyed on where the attempt goes,
    // never on the request's own id: see pair-guard.ts). Every attempt is audited, never with the code.
    const limitKey = PairLimiter.key(pairUserKey(req), pairTargetKey(config));
    const audit = (outcome: string, errorCode?: string) =>
      RED.log.audit({ event: 'wonder-ecr.pair', terminal: id, transport: config.transport, target: config.host ?? config.serialPort ?? config.businessId ?? '', outcome, ...(errorCode ? { code: errorCode } : {}) } as never, req as never);
    const wait = pairLimiter.begin(limitKey);
    if (wait !== undefined) {
      audit('refused', 'E_RATE_LIMITED');
      res.status(429).set('Retry-After', String(Math.ceil(wait / 1000))).json({ ok: false, code: 'E_RATE_LIMITED', retryAfterSeconds: Math.ceil(wait / 1000) });
      return;
    }
    /** Why the connection failed, as the terminal's status later names it: its own error, else the open() that failed before it. */
    let openError: unknown;
    const run = async () => {
      checkTerminalConfig(config);
      if (reuse) return deployed.wonder.pair({ timeoutMs: PAIR_TIMEOUT_MS });
      // A terminal not deployed yet (or changed in the dialog): pair over a temporary session.
      // Its pinCode2 (cloud) is stored too: the terminal, once deployed, speaks with it at once.
      const cloudStore = config.transport === 'cloud' ? pairingStore() : undefined;
      const temporary = new Terminal({ config, pairingCode: code, paymentTimeoutMs: 120_000, busyPolicy: 'reject', ...(cloudStore !== undefined ? { pairingStore: cloudStore } : {}) });
      if (temporary.session === undefined) throw temporary.configError ?? new ValidationError('transport', 'is not usable');
      try {
        if (config.transport === 'cloud' && !config.deviceSn) {
          // No device SN: open() learns it by ConnectionInfo; if that fails (a wrong code, no answer), that is the answer.
          await temporary.open();
        } else {
          await temporary.open().catch((err: unknown) => {
            openError = err;
          });
        }
        const paired = await temporary.pair({ timeoutMs: PAIR_TIMEOUT_MS });
        const transport = temporary.session.transport;
        return { ...paired, learntDeviceSn: transport instanceof CloudTransport && !config.deviceSn ? transport.deviceSn : undefined };
      } finally {
        await temporary.close();
      }
    };
    run().then(
      (paired: { ack: Awaited<ReturnType<Terminal['pair']>>['ack']; learntDeviceSn?: string | undefined }) => {
        const { ack } = paired;
        pairLimiter.end(limitKey, false);
        audit('paired');
        const info = ack.body as { deviceStatus?: string; networkStatus?: string; softwareVersion?: string; businessID?: string };
        res.json({
          ok: true,
          // Cloud without a device SN: the one ConnectionInfo gave (the dialog fills it in).
          deviceSn: paired.learntDeviceSn ?? ack.header.serverDeviceSN,
          ...(paired.learntDeviceSn !== undefined ? { learntDeviceSn: true } : {}),
          softwareVersion: info.softwareVersion ?? '',
          deviceStatus: info.deviceStatus ?? '',
          networkStatus: info.networkStatus ?? '',
          businessID: info.businessID ?? '',
        });
      },
      (err: unknown) => {
        const code = isWonderError(err) ? err.code : 'E_UNKNOWN';
        // Bad input costs nothing; a wrong code or an unanswered attempt counts.
        pairLimiter.end(limitKey, code !== 'E_VALIDATION');
        audit('failed', code);
        const status = code === 'E_VALIDATION' ? 400 : code === 'E_SECURITY' ? 403 : 502;
        const message = code === 'E_SECURITY' ? t(RED, 'errors.wrongPairingCode') : describeError(RED, err);
        // The cause the terminal's diagnosis names (host-refused, http-error, port-gone, …): the dialog shows its text.
        const cause = code === 'E_SECURITY' || code === 'E_VALIDATION' ? undefined : pairFailureCause(err, openError, config.transport === 'serial');
        res.status(status).json({ ok: false, code, field: isWonderError(err) ? err.field : undefined, message, ...cause });
      },
    );
  });
};
