import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { isWonderError, minimiseCard } from '../../lib/protocol';
import type { Action } from '../../lib/protocol';
import { PendingError, type Outcome, type Recovery, type SessionActivity } from '../../lib/session';
import { t, translatedError } from './i18n';
import { ProgressReporter } from './progress';
import { receiptFor, receiptWidth } from './receipt-node';
import { statusSetter } from './shown-status';
import { activityStatus, connectionStatus, type ActivityKind } from './status';
import type { Terminal } from '../../lib/terminal';
import { onFlowsStarted } from './flows-started';

export interface ActionNodeDef extends NodeDef {
  terminal: string;
  [property: string]: unknown;
}

/** What a wonder-terminal config node exposes to the action nodes. */
export interface TerminalConfigNode extends Node {
  wonder: Terminal;
}

type Msg = NodeMessageInFlow & { wonder?: Record<string, unknown> };
type Send = (msg: Msg | Array<Msg | null>) => void;
type Done = (err?: Error) => void;

export interface ActionSpec {
  type: string;
  /** The protocol action, or 'Pair' for Pair followed by Ack. */
  action: Action;
  /** Reads the request's parameters from the message (and the node's own settings). */
  params?: (RED: NodeAPI, node: Node, config: ActionNodeDef, msg: Msg) => Promise<Record<string, unknown>>;
  /** Sale, Refund: a second output of progress messages when the node's `progress` box is ticked. */
  progress?: boolean;
  /** Sale, Refund, Void: `msg.receipt` on every settled outcome. */
  receipt?: boolean;
}

function evaluate(RED: NodeAPI, node: Node, value: unknown, type: unknown, msg: Msg): Promise<unknown> {
  if (typeof value !== 'string' || value === '') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, typeof type === 'string' ? type : 'str', node, msg, (err: Error | null, result: unknown) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** msg.payload as an object of request fields ({} when it is not one). */
export function payloadObject(msg: Msg): Record<string, unknown> {
  const p = msg.payload;
  return typeof p === 'object' && p !== null && !Array.isArray(p) && !Buffer.isBuffer(p) ? (p as Record<string, unknown>) : {};
}

/**
 * Amount and currency: the payload wins; otherwise the node's typed inputs
 * (msg, flow, global, env or a fixed string).
 */
export async function amountAndCurrency(RED: NodeAPI, node: Node, config: ActionNodeDef, msg: Msg): Promise<{ amount: unknown; currency: unknown }> {
  const p = payloadObject(msg);
  const amount = p.amount !== undefined ? p.amount : await evaluate(RED, node, config.amount, config.amountType, msg);
  const currency = p.currency !== undefined ? p.currency : await evaluate(RED, node, config.currency, config.currencyType, msg);
  return { amount, currency };
}

/** msg.wonder for an outcome (built in one object: one per settled request). */
export function wonderOf(outcome: Outcome, referenceID?: string): Record<string, unknown> {
  const wonder: Record<string, unknown> = {
    action: outcome.action,
    requestID: outcome.requestID,
    referenceID: outcome.referenceID ?? referenceID,
    responseHeader: outcome.header,
    elapsedMs: outcome.elapsedMs,
    result: outcome.result ?? (outcome.body as { status?: string }).status,
  };
  if (outcome.verdict !== undefined) {
    wonder.outcome = outcome.verdict;
    wonder.reason = outcome.reason;
  }
  if (outcome.resolvedBy !== undefined) {
    wonder.resolvedBy = outcome.resolvedBy;
    wonder.statusQueries = outcome.statusQueries;
  }
  if (outcome.duplicate === true) wonder.duplicate = true;
  if (outcome.approvedDespiteAbort === true) wonder.approvedDespiteAbort = true;
  if (outcome.takenOutOfQueue === true) wonder.takenOutOfQueue = true;
  if (outcome.settledPayment !== undefined) wonder.settledPayment = outcome.settledPayment;
  if (outcome.journalBehind !== undefined) wonder.journalBehind = outcome.journalBehind.code;
  return wonder;
}

/** What msg.wonder says of a failed request: the code, the payment it is about and whether it can have left. */
export function wonderOfError(err: unknown): Record<string, unknown> {
  if (!isWonderError(err)) return { code: 'E_INTERNAL' };
  return {
    code: err.code,
    ...(err.referenceID !== undefined ? { referenceID: err.referenceID } : {}),
    ...(err.notSent !== undefined ? { notSent: err.notSent } : {}),
    ...(err instanceof PendingError ? { result: 'Pending', outcome: 'unknown', ...(err.reason !== undefined ? { reason: err.reason } : {}) } : {}),
    // What the terminal's line diagnosis names as the cause (no-valid-frames, undecryptable, port-gone, …).
    ...(typeof (err as { diagnosis?: unknown }).diagnosis === 'string' ? { diagnosis: (err as { diagnosis?: string }).diagnosis } : {}),
  };
}

/**
 * Registers a thin action node: input → validate → await the terminal's
 * session → send → done. Every failure goes through one handler.
 */
export function registerActionNode(RED: NodeAPI, spec: ActionSpec): void {
  function ActionNode(this: Node, config: ActionNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const terminal = RED.nodes.getNode(config.terminal) as TerminalConfigNode | null;
    const handle = terminal?.wonder;
    let active = 0;
    let lastActivity: ActivityKind | undefined;
    const progress = spec.progress === true && config.progress === true;
    const width = receiptWidth(config.receiptWidth);
    /** Progress of this node's payments in flight. */
    const reporters = new Set<ProgressReporter>();
    const withReceipt = (msg: Msg, outcome: Outcome, asked: Record<string, unknown>) => {
      const receipt = spec.receipt === true ? receiptFor(RED, outcome, asked, handle?.journal, width) : undefined;
      if (receipt !== undefined) (msg as Msg & { receipt?: unknown }).receipt = receipt;
      return msg;
    };

    const shown = statusSetter(node);
    let lastStatus: NodeStatus | undefined;
    const status = (value: NodeStatus) => {
      lastStatus = value;
      shown(value);
    };
    // A status node hears a flow's nodes only once the whole flow has started: the status set while this
    // node was created (its terminal's connection) is shown again then, so that a status node has it too.
    const showAgain = () => {
      if (lastStatus !== undefined) node.status(lastStatus);
    };
    const stopShowingAgain = onFlowsStarted(RED.events, showAgain);
    /** A simulator's results are said to be simulated: in the status, and in msg.wonder.simulated. */
    const simulated = () => handle?.simulated === true;
    const show = (kind: ActivityKind) => {
      lastActivity = kind;
      status(activityStatus(kind, simulated()));
    };
    /** "Raw card data" ticked: the card's prefix, hash and token in msg.payload; else its brand and last four digits only. */
    const rawCard = config.rawCard === true;
    const payloadOf = (body: unknown) => (rawCard ? body : minimiseCard(body));
    const marked = (wonder: Record<string, unknown>) => (simulated() ? Object.assign(wonder, { simulated: true }) : wonder);
    if (handle === undefined) {
      status({ fill: 'red', shape: 'dot', text: 'node-red-contrib-wonder-ecr/wonder-terminal:status.noTerminal' });
    } else {
      handle.register(node.id, (state) => {
        // A connection change always shows; otherwise keep the last result.
        if (active === 0 || state !== 'connected') status(connectionStatus(state, simulated()));
        else if (lastActivity !== undefined) status(activityStatus(lastActivity, simulated()));
      });
      // A payment this node started before a restart or a lost connection, settled now.
      handle.on('recovered', onRecovered);
    }
    /**
     * The terminal's activity (its scheduler's "queued" and the session's
     * steps) is listened to only while this node has a request of its own
     * (many nodes on one terminal: each event goes to the busy ones, not to all).
     */
    const begin = () => {
      if (active++ === 0) handle?.on('activity', onActivity);
    };
    const end = () => {
      if (--active === 0) handle?.off('activity', onActivity);
    };

    /** Requests of this node in the terminal's queue or in flight. */
    const mine = new Set<string>();
    function onActivity(a: SessionActivity) {
      for (const reporter of reporters) reporter.activity(a);
      if (!mine.has(a.requestID)) return;
      if (a.kind === 'waiting-card') show('waiting-card');
      else if (a.kind === 'resolving') show('resolving');
      else if (a.kind === 'sending') show('sending');
    }

    function onRecovered(recovery: Recovery) {
      if (recovery.entry.node !== node.id || recovery.outcome === undefined) return;
      const outcome = recovery.outcome;
      show(outcome.result === 'Failed' ? 'failed' : 'success');
      if (outcome.journalBehind !== undefined) node.warn(t(RED, 'log.journalBehind', { referenceID: recovery.entry.referenceID, result: String(outcome.result) }));
      const msg = { payload: payloadOf(outcome.body), wonder: marked({ ...wonderOf(outcome, recovery.entry.referenceID), recovered: true }) } as unknown as Msg;
      node.send(withReceipt(msg, outcome, { ...recovery.entry }));
    }

    const fail = (err: unknown, done: Done) => {
      const code = isWonderError(err) ? err.code : undefined;
      // An unknown outcome is not an error of the terminal: the payment may be approved, and it is still being asked about.
      if (code !== 'E_PENDING' && code !== 'E_BUSY' && typeof (err as { diagnosis?: unknown }).diagnosis === 'string' && handle !== undefined) {
        // The line is why it failed: show the cause the terminal's diagnosis names, as its other nodes do.
        lastActivity = undefined;
        status(connectionStatus(handle.state, simulated()));
      } else {
        show(code === 'E_BUSY' ? 'busy' : code === 'E_PENDING' ? 'resolving' : 'error');
      }
      done(translatedError(RED, err));
    };

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      void (async () => {
        if (handle === undefined) throw new Error(t(RED, 'errors.noTerminal'));
        if (handle.session === undefined) throw handle.configError;
        const params = spec.params ? await spec.params(RED, node, config, msg) : {};
        const reporter = progress ? new ProgressReporter(RED, spec.action, msg as never, params.amount, params.currency, (m) => send([null, (simulated() ? { ...m, wonder: marked({ ...(m.wonder as Record<string, unknown>) }) } : m) as Msg])) : undefined;
        if (reporter !== undefined) reporters.add(reporter);
        begin();
        let requestID: string | undefined;
        let referenceID: string | undefined;
        msg.wonder = { action: spec.action };
        try {
          const options = {
            onQueued: (info: { requestID: string; referenceID?: string }) => {
              requestID = info.requestID;
              referenceID = info.referenceID;
              mine.add(info.requestID);
              Object.assign(msg.wonder!, info);
              reporter?.queued(info);
            },
          };
          let outcome: Outcome;
          if (spec.action === 'Pair') {
            const { pair, ack } = await handle.pair(options);
            outcome = ack;
            msg.wonder.pairRequestID = pair.requestID;
          } else {
            // A refund of a sale the journal does not know goes out only when the node allows it (off by default).
            const refundUnknownSale = spec.action === 'Refund' && config.refundUnknownSales === true;
            outcome = await handle.request(spec.action, params as never, { ...options, origin: node.id, ...(refundUnknownSale ? { refundUnknownSale } : {}) });
          }
          reporter?.settled(outcome);
          const status = outcome.result ?? (outcome.body as { status?: string }).status;
          show(status === 'Failed' ? 'failed' : 'success');
          msg.payload = payloadOf(outcome.body);
          const wonder = wonderOf(outcome, referenceID);
          wonder.action = spec.action;
          msg.wonder = marked(wonder);
          if (outcome.approvedDespiteAbort === true) node.warn(t(RED, 'log.approvedDespiteAbort', { referenceID: String(msg.wonder.referenceID) }));
          if (outcome.journalBehind !== undefined) node.warn(t(RED, 'log.journalBehind', { referenceID: String(msg.wonder.referenceID), result: String(msg.wonder.result) }));
          withReceipt(msg, outcome, { ...params, referenceID });
          send(progress ? [msg, null] : msg);
          done();
        } catch (err) {
          reporter?.failed(err);
          msg.wonder = marked({ ...msg.wonder, ...wonderOfError(err) });
          throw err;
        } finally {
          if (reporter !== undefined) reporters.delete(reporter);
          end();
          if (requestID !== undefined) mine.delete(requestID);
        }
      })().catch((err: unknown) => {
        // Refused before the request was made (a typed input that cannot be read): on a simulator, said too.
        if (simulated() && msg.wonder?.simulated !== true) msg.wonder = marked({ ...msg.wonder });
        fail(err, done);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      stopShowingAgain();
      handle?.deregister(node.id);
      handle?.off('recovered', onRecovered);
      handle?.off('activity', onActivity);
      done();
    });
  }
  RED.nodes.registerType(spec.type, ActionNode as never);
}
