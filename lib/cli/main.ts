import { parseArgs } from 'node:util';
import { EASYCARD_USAGE, runEasyCardRetryCli } from './easycard';
import { JOURNAL_USAGE, runJournalCli } from './journal';
import { createTransport, type ExchangeEvent, type Outcome, PendingError, type Recovery, type TerminalConfig, terminalIdentity } from '../session';
import { Terminal, type NodeDiagnosis } from '../terminal';
import { promptHidden, readPairingCode, refusePinFlag } from './pin';
import { type Action, buildBody, isWonderError, minimiseCard, PAYMENT_ACTIONS, validateSecondsMs, ValidationError } from '../protocol';
import { serveLan, serveSerial, SimulatedTerminal, SIMULATOR_DEFAULT_PAIRING_CODE } from '../simulator';
import type { Transport } from '../transport';
import { cliPairingStore } from './state';
import { interruptible, openCliLedger } from './payment';
import type { CliIo } from './io';
export type { CliIo } from './io';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  noAnswer: 3,
  pending: 4,
  security: 5,
} as const;

const USAGE = `usage:
  wonder-ecr <pair|info|sale|refund|void|abort|status>
      (--serial PATH [--baud N] | --lan HOST:PORT [--ca FILE] [--fingerprint SHA256] | --cloud staging|production|URL --business-id ID --device-sn SN)
      pairing code: WONDER_PIN, or --pin-file FILE, or asked for (no echo) when stdin is a terminal; never --pin
      [--amount 10.20 --currency HKD --order ID --reference ID --org-reference ID --target-reference ID]
      [--timeout SECONDS] [--resolve-timeout SECONDS] [--client-sn SN] [--ledger FILE | --no-ledger]
      [--refund-unknown-sale]
      [--raw-card]  print the card's first six digits, hash and token too (default: its last four digits only)
  wonder-ecr simulate (--serial PATH | --lan PORT) [--pin-file FILE] [--host ADDR] [--card-delay MS] [--pending-ms MS] [--slow-card-ms MS]
cloud: pair keeps the second pin code (pinCode2) for later commands to that terminal, encrypted in
      $XDG_STATE_HOME/wonder-ecr (or ~/.local/state/wonder-ecr); if the terminal refuses it: "pair again"
payments (sale, refund, void) are recorded in the ledger (default $XDG_STATE_HOME/wonder-ecr/ledger.db;
      --journal FILE and --no-journal are the old names of --ledger and --no-ledger):
      a --reference given again is never sent twice; its recorded or looked-up outcome is printed.
      A refund is held against its sale in the journal (its amount less earlier refunds, its currency,
      not declined or voided); one of a sale the journal does not know (taken elsewhere, or any
      refund with --no-ledger) needs --refund-unknown-sale.
      The reference is printed on stderr before the payment leaves. Ctrl-C (or SIGTERM) sends Abort and
      waits for the payment's outcome; a second one stops waiting (outcome unknown: ask it with status).
a simulated terminal (wonder-ecr simulate) marks its answers: the output says "simulated": true and
      stderr says that no real payment was taken
exit status: 0 approved (status: the transaction succeeded), 1 declined / failed / voided, 2 bad input,
             3 no answer at all or a transport error, 4 outcome unknown (Pending), 5 security error
             (wrong pairing code or tampered data)
EasyCard (intella Scan2Pay) retry of an interrupted payment:
${EASYCARD_USAGE}
The ledger's payments (read only):
${JOURNAL_USAGE}`;

/** What stderr says once a simulated terminal has answered. */
export const SIMULATED_NOTICE = 'wonder-ecr: SIMULATED terminal (wonder-ecr simulate): no real payment is taken';

const COMMANDS: Record<string, Action> = {
  pair: 'Pair',
  info: 'DeviceInfo',
  sale: 'Sale',
  refund: 'Refund',
  void: 'Void',
  abort: 'Abort',
  status: 'TransactionStatus',
};

const OPTIONS = {
  serial: { type: 'string' },
  baud: { type: 'string' },
  lan: { type: 'string' },
  ca: { type: 'string' },
  cloud: { type: 'string' },
  'business-id': { type: 'string' },
  'device-sn': { type: 'string' },
  'pin-file': { type: 'string' },
  fingerprint: { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string' },
  order: { type: 'string' },
  reference: { type: 'string' },
  'org-reference': { type: 'string' },
  'target-reference': { type: 'string' },
  timeout: { type: 'string' },
  'resolve-timeout': { type: 'string' },
  'client-sn': { type: 'string' },
  ledger: { type: 'string' },
  'no-ledger': { type: 'boolean' },
  journal: { type: 'string' },
  'no-journal': { type: 'boolean' },
  'refund-unknown-sale': { type: 'boolean' },
  'raw-card': { type: 'boolean' },
  host: { type: 'string' },
  'card-delay': { type: 'string' },
  'pending-ms': { type: 'string' },
  'slow-card-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];


const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  ...(process.stdin.isTTY === true ? { prompt: () => promptHidden('pairing code (not shown): ') } : {}),
};

function seconds(value: string | undefined, field: string): number | undefined {
  return value === undefined ? undefined : validateSecondsMs(value, field);
}

function integer(value: string | undefined, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) throw new ValidationError(field, `must be a whole number from ${min} to ${max}`);
  return n;
}

function hostPort(value: string): { host: string; port: number; https: boolean } {
  // HOST:PORT, [IPv6]:PORT, or https://HOST:PORT.
  const match = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+)(?::([0-9]{1,5}))?\/?$/.exec(value);
  const port = match?.[3] === undefined ? 8443 : Number(match[3]);
  if (match === null || port < 1 || port > 65535) throw new ValidationError('--lan', 'must be HOST:PORT, for example 192.168.1.20:8443');
  return { host: match[2]!.replace(/^\[|\]$/g, ''), port, https: match[1] === 'https' };
}

/** Config fields as the CLI's flags, so an error names what the technician typed. */
const FLAG_OF: Record<string, string> = {
  serialPort: '--serial',
  baudRate: '--baud',
  host: '--lan',
  port: '--lan',
  businessId: '--business-id',
  cloudUrl: '--cloud',
  deviceSn: '--device-sn',
  caFile: '--ca',
  tlsFingerprint: '--fingerprint',
};

/** The flags as a terminal config; the transport is built as a config node builds it. */
function transportFrom(v: Values): { transport: Transport; config: TerminalConfig } {
  const chosen = [v.serial, v.lan, v.cloud].filter((x) => x !== undefined).length;
  if (chosen !== 1) throw new ValidationError('transport', 'give exactly one of --serial, --lan or --cloud');
  let config: TerminalConfig;
  if (v.serial !== undefined) {
    config = { transport: 'serial', serialPort: v.serial, baudRate: integer(v.baud, '--baud', 300, 4_000_000) ?? 115_200, reconnect: { initialDelayMs: 200, maxDelayMs: 2_000 } };
  } else if (v.lan !== undefined) {
    const { host, port, https } = hostPort(v.lan);
    config = {
      transport: 'lan',
      host,
      port,
      https,
      ...(v.ca === undefined ? {} : { caFile: v.ca }),
      ...(v.fingerprint === undefined ? {} : { tlsFingerprint: v.fingerprint }),
    };
  } else {
    const cloud = v.cloud!;
    const env = cloud === 'staging' || cloud === 'production' ? cloud : 'custom';
    config = {
      transport: 'cloud',
      cloudEnv: env,
      ...(env === 'custom' ? { cloudUrl: cloud } : {}),
      ...(v['business-id'] === undefined ? {} : { businessId: v['business-id'] }),
      ...(v['device-sn'] === undefined ? {} : { deviceSn: v['device-sn'] }),
      ...(v.ca === undefined ? {} : { caFile: v.ca }),
    };
  }
  try {
    return { transport: createTransport(config), config };
  } catch (err) {
    const flag = err instanceof ValidationError && err.field !== undefined ? FLAG_OF[err.field] : undefined;
    if (flag === undefined) throw err;
    throw new ValidationError(flag, (err as ValidationError).message.replace(/^[^:]*: /, ''));
  }
}

function paramsFor(action: Action, v: Values): Record<string, unknown> {
  switch (action) {
    case 'Sale':
      return { amount: v.amount, currency: v.currency, customerOrderID: v.order, referenceID: v.reference };
    case 'Refund':
      return { amount: v.amount, currency: v.currency, orgReferenceID: v['org-reference'], referenceID: v.reference };
    case 'Void':
      return { orgReferenceID: v['org-reference'] };
    case 'TransactionStatus':
      return { targetReferenceID: v['target-reference'] };
    default:
      return {};
  }
}

function exitFor(outcome: Outcome): number {
  const body = outcome.body as { status?: string };
  // A payment: its settled result. A status query: the looked-up transaction's state (0 only for a successful one).
  // Anything else: whether the terminal says Success.
  const result = PAYMENT_ACTIONS.includes(outcome.action) || outcome.action === 'TransactionStatus' ? outcome.result : body.status;
  if (result === undefined || result === 'Success') return EXIT.ok;
  return result === 'Pending' || result === 'Unknown' ? EXIT.pending : EXIT.failed;
}

function exitForError(err: unknown): number {
  // Not one word from the terminal about it: a transport problem (exit 3), said with its cause, never "pending".
  if (err instanceof PendingError) return err.heardFrom ? EXIT.pending : EXIT.noAnswer;
  if (isWonderError(err)) {
    if (err.code === 'E_VALIDATION') return EXIT.usage;
    if (err.code === 'E_SECURITY') return EXIT.security;
    if (err.code === 'E_REFERENCE_TAKEN' || err.code === 'E_ABORTED') return EXIT.failed;
  }
  return EXIT.noAnswer;
}

function oneLine(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  if (err instanceof PendingError && !err.heardFrom) {
    const cause = err.cause instanceof Error ? err.cause.message : 'no answer';
    text = `no answer from the terminal (${cause}); the outcome of ${err.referenceID} is unknown: ask it with status --target-reference ${err.referenceID}, never send it again`;
  } else if (isWonderError(err) && err.referenceID !== undefined && !text.includes(err.referenceID)) {
    text = `${text} (reference ${err.referenceID}${err.notSent === true ? ', not sent' : ''})`;
  }
  // The cause the line's diagnosis names, when the line is why it failed (the Terminal gives it to the error).
  const diagnosis = typeof err === 'object' && err !== null ? (err as { diagnosis?: unknown }).diagnosis : undefined;
  if (typeof diagnosis === 'string' && !text.includes(diagnosis)) text = `${text} (line diagnosis: ${diagnosis})`;
  // An error from a simulated terminal says so (the notice was printed before it too).
  const simulated = typeof err === 'object' && err !== null && (err as { simulated?: unknown }).simulated === true ? ' [simulated]' : '';
  return `wonder-ecr: ${text.replace(/\s+/g, ' ')}${simulated}`;
}

async function runAction(action: Action, v: Values, io: CliIo): Promise<number> {
  // Everything is checked before a port is opened: bad input sends nothing.
  const pin = await readPairingCode({
    pinFile: v['pin-file'],
    env: io.env,
    prompt: io.prompt,
    warn: io.stderr,
  });
  const params = paramsFor(action, v);
  buildBody(action, params as never);
  const timeoutMs = seconds(v.timeout, '--timeout');
  const resolveTimeoutMs = seconds(v['resolve-timeout'], '--resolve-timeout');
  const { transport, config } = transportFrom(v);
  const payment = PAYMENT_ACTIONS.includes(action);
  // A ledger, as the nodes keep one: a --reference given again is never sent twice.
  const identity = terminalIdentity(config, 'cli');
  const ledgerFile = v.ledger ?? v.journal;
  if (v.ledger !== undefined && v.journal !== undefined) throw new ValidationError('--journal', 'is the old name of --ledger: give one of them');
  const noLedger = v['no-ledger'] === true || v['no-journal'] === true;
  // Without a ledger no sale is known: a refund is one "of a sale the ledger does not know", as the nodes' option says.
  if (noLedger && action === 'Refund' && v['refund-unknown-sale'] !== true) {
    throw new ValidationError('--refund-unknown-sale', 'is needed for a refund with --no-ledger: without a ledger no sale is known to hold the refund against');
  }
  const journal = payment || action === 'TransactionStatus' ? openCliLedger({ ...(ledgerFile === undefined ? {} : { ledger: ledgerFile }), noLedger }, io.env) : undefined;
  // The same Terminal a config node drives: the terminal's identity (its SN, checked after connecting, recorded in
  // the ledger), the payments left open settled first, the line's diagnosis, and the key it speaks with
  // (cloud: the pinCode2 a Pair hands back, kept for later commands to that terminal; see state.ts).
  const terminal = new Terminal({
    config,
    transport,
    pairingCode: pin,
    ...(v['client-sn'] === undefined ? {} : { clientDeviceSN: v['client-sn'] }),
    paymentTimeoutMs: timeoutMs ?? 120_000,
    ...(timeoutMs === undefined ? {} : { commandTimeoutMs: timeoutMs }),
    busyPolicy: 'queue',
    resolveTimeoutMs: resolveTimeoutMs ?? 60_000,
    ...(journal === undefined ? {} : { ledger: journal, terminalId: identity, followDeviceSn: true }),
    ...(config.transport === 'cloud' ? { pairingStore: cliPairingStore(io.env) } : {}),
  });
  const session = terminal.session;
  if (session === undefined) {
    await journal?.close();
    throw terminal.configError;
  }
  // A simulated terminal marks every answer: said once on stderr, and in the output (an error's too).
  let simulated = false;
  session.on('exchange', (e: ExchangeEvent) => {
    if (e.kind !== 'answered' || e.simulated !== true || simulated) return;
    simulated = true;
    io.stderr(SIMULATED_NOTICE);
  });
  // What the nodes log: a fault the line's diagnosis names, and the earlier payments settled (or still unknown) on the way.
  terminal.on('diagnosis', (d: NodeDiagnosis) => io.stderr(`wonder-ecr: line diagnosis: ${d.code}${d.detail !== undefined && d.detail !== '' ? ` (${d.detail})` : ''}`));
  terminal.on('recovered', (r: Recovery) => io.stderr(`wonder-ecr: earlier ${r.entry.action} ${r.entry.referenceID} settled: ${r.outcome?.result ?? 'unknown'}`));
  terminal.on('unresolved', (r: Recovery) =>
    io.stderr(`wonder-ecr: earlier ${r.entry.action} ${r.entry.referenceID} still unknown: ask it with status --target-reference ${r.entry.referenceID}, never send it again`),
  );
  try {
    await terminal.open();
    let outcome: Outcome;
    if (action === 'Pair') {
      outcome = (await terminal.pair()).ack;
    } else if (payment) {
      // The reference is shown before the payment leaves: an interrupted run can always be asked about.
      let reference: string | undefined;
      const onQueued = (info: { referenceID?: string }) => {
        reference = info.referenceID ?? (params as { orgReferenceID?: string }).orgReferenceID;
        io.stderr(`wonder-ecr: ${action} reference ${reference ?? '?'}`);
      };
      outcome = await interruptible(
        terminal.request(action, params as never, { onQueued, ...(action === 'Refund' && v['refund-unknown-sale'] === true ? { refundUnknownSale: true } : {}) }),
        { abort: () => terminal.request('Abort'), giveUp: () => terminal.close(), reference: () => reference },
        io,
      );
    } else {
      outcome = await terminal.request(action, params as never);
    }
    // The card's brand and last four digits; its prefix, hash and token only with --raw-card.
    const line: Record<string, unknown> = { header: outcome.header, body: v['raw-card'] === true ? outcome.body : minimiseCard(outcome.body) };
    if (action === 'Sale' || action === 'Refund') line.referenceID = outcome.referenceID;
    if (payment || action === 'TransactionStatus') line.result = outcome.result;
    if (outcome.verdict !== undefined) Object.assign(line, { outcome: outcome.verdict, reason: outcome.reason });
    if (outcome.resolvedBy !== undefined) line.resolvedBy = outcome.resolvedBy;
    if (outcome.duplicate === true) line.duplicate = true;
    if (outcome.approvedDespiteAbort === true) line.approvedDespiteAbort = true;
    if (simulated || outcome.header.simulated === true) line.simulated = true;
    if (outcome.journalBehind !== undefined) io.stderr(`wonder-ecr: ${outcome.journalBehind.message}`);
    io.stdout(JSON.stringify(line));
    return exitFor(outcome);
  } catch (err) {
    if (simulated && typeof err === 'object' && err !== null) (err as { simulated?: boolean }).simulated = true;
    throw err;
  } finally {
    // The Terminal gives its ledger back as it closes.
    await terminal.close();
    await journal?.close();
  }
}

async function runSimulator(v: Values, io: CliIo): Promise<number> {
  const pin = await readPairingCode({ pinFile: v['pin-file'], env: io.env, warn: io.stderr }, SIMULATOR_DEFAULT_PAIRING_CODE);
  const timing: Record<string, number> = {};
  for (const [flag, key] of [['card-delay', 'cardDelayMs'], ['pending-ms', 'pendingMs'], ['slow-card-ms', 'slowCardMs']] as const) {
    const value = integer(v[flag], `--${flag}`, 0, 3_600_000);
    if (value !== undefined) timing[key] = value;
  }
  const terminal = new SimulatedTerminal({ pairingCode: pin, ...timing });
  let stop: () => Promise<void>;
  if ((v.serial === undefined) === (v.lan === undefined)) throw new ValidationError('transport', 'simulate needs exactly one of --serial PATH or --lan PORT');
  if (v.serial !== undefined) {
    const server = await serveSerial(terminal, { path: v.serial, baudRate: integer(v.baud, '--baud', 300, 4_000_000) ?? 115_200 });
    io.stderr(`wonder-ecr: simulated terminal ${terminal.serverDeviceSN} on ${v.serial}`);
    stop = () => server.close();
  } else {
    const port = integer(v.lan, '--lan', 0, 65535)!;
    const server = await serveLan(terminal, { port, host: v.host ?? '127.0.0.1' });
    io.stderr(`wonder-ecr: simulated terminal ${terminal.serverDeviceSN} at ${server.url}`);
    stop = () => server.close();
  }
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  terminal.stop();
  await stop();
  return EXIT.ok;
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  // Its own options and exit statuses (lib/cli-easycard.ts).
  if (argv[0] === 'easycard-retry') return runEasyCardRetryCli(argv.slice(1), io);
  if (argv[0] === 'journal') return runJournalCli(argv.slice(1), io);
  let parsed: { values: Values; positionals: string[] };
  try {
    refusePinFlag(argv);
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(oneLine(err));
    return EXIT.usage;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help === true || command === undefined) {
    io.stderr(USAGE);
    return command === undefined && parsed.values.help !== true ? EXIT.usage : EXIT.ok;
  }
  try {
    if (extra.length > 0) throw new ValidationError('arguments', `unexpected ${JSON.stringify(extra[0])}`);
    if (command === 'simulate') return await runSimulator(parsed.values, io);
    const action = COMMANDS[command];
    if (action === undefined) throw new ValidationError('command', `unknown command ${JSON.stringify(command.slice(0, 20))}; see --help`);
    return await runAction(action, parsed.values, io);
  } catch (err) {
    io.stderr(oneLine(err));
    return exitForError(err);
  }
}
