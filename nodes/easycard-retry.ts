import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { isWonderError, validateSecondsMs, ValidationError } from '../lib/protocol';
import { failedResponseOf, isEasyCardError, redactError, type RetryAttemptEvent, type RetryResult, type WaitForCardInfo } from '../lib/easycard';
import { credentialMissing, type EasyCardAccountHandle } from './common/easycard-account-handle';
import { describeError, EC_NS, ect, translatedError } from './common/i18n';
import { reportRecovered } from './common/easycard-recovered';
import { onFlowsStarted } from './common/flows-started';

interface RetryDef extends NodeDef {
  account?: string;
  cardWait?: string | number;
  waitForSignal?: boolean | string;
}

type Msg = NodeMessageInFlow & { easycard?: Record<string, unknown>; topic?: string };
type Send = (msg: Array<Msg | null>) => void;
type Done = (err?: Error) => void;

/** `msg.topic` of the message that says the card is back on the reader. */
const CARD_BACK_TOPIC = 'card-back';
const DEFAULT_CARD_WAIT_SECONDS = 10;
const MAX_CARD_WAIT_SECONDS = 3600;
/** How long a stopping node lets a retry request already sent finish (Node-RED allows 15 s). */
const CLOSE_GRACE_MS = 10_000;

function cardWaitMsOf(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_CARD_WAIT_SECONDS * 1000;
  return validateSecondsMs(value, 'cardWait', { allowZero: true, max: MAX_CARD_WAIT_SECONDS });
}

/** A wait of this node for the cardholder, released by a card-back message or its timer. */
interface CardWait {
  storeOrderNo: string;
  release: () => void;
}

export = function register(RED: NodeAPI): void {
  function EasyCardRetryNode(this: Node, config: RetryDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const account = (typeof config.account === 'string' && config.account !== '' ? RED.nodes.getNode(config.account) : null) as
      | (Node & { easycard?: EasyCardAccountHandle })
      | null;
    const handle = account?.easycard;
    const waitForSignal = config.waitForSignal === true || config.waitForSignal === 'true';
    let cardWaitMs = DEFAULT_CARD_WAIT_SECONDS * 1000;
    let setupError: unknown;
    try {
      cardWaitMs = cardWaitMsOf(config.cardWait);
    } catch (err) {
      setupError = err;
    }

    // The status text is an i18n key: the editor shows it in its own language.
    const status = (fill: NodeStatus['fill'], shape: NodeStatus['shape'], key: string) => node.status({ fill, shape, text: `${EC_NS}:status.${key}` });
    const showIdle = () => {
      if (handle === undefined) status('red', 'dot', 'noAccount');
      else if (credentialMissing(handle.configError, account?.credentials as never)) status('red', 'ring', 'noCredentials');
      else if (handle.configError !== undefined || setupError !== undefined) status('red', 'dot', 'configError');
      else node.status({});
    };
    showIdle();
    if (setupError !== undefined) node.error(ect(RED, 'errors.setup', { detail: describeError(RED, setupError, EC_NS) }));

    const waits = new Map<number, CardWait>();
    let waitSeq = 0;
    let closing = false;
    /** Cancels the waits for the card (nothing is sent after it). */
    const waitAbort = new AbortController();
    /** Cancels a retry request in flight: only when a stopping node's grace time runs out. */
    const sendAbort = new AbortController();
    const running = new Set<Promise<void>>();

    function waitForCard(_attempt: number, max: number, info: WaitForCardInfo): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (closing || waitAbort.signal.aborted) {
          reject(new Error('the node is stopping; no retry was sent'));
          return;
        }
        const id = ++waitSeq;
        let timer: NodeJS.Timeout | undefined;
        const finish = (err?: Error) => {
          if (!waits.delete(id)) return;
          if (timer !== undefined) clearTimeout(timer);
          waitAbort.signal.removeEventListener('abort', onAbort);
          if (err !== undefined) {
            reject(err);
          } else {
            status('yellow', 'dot', `retrying.${Math.min(info.retry, max)}`);
            resolve();
          }
        };
        const onAbort = () => finish(new Error('the node is stopping; no retry was sent'));
        waits.set(id, { storeOrderNo: info.storeOrderNo, release: () => finish() });
        waitAbort.signal.addEventListener('abort', onAbort);
        status('blue', 'ring', `placeCard.${Math.min(info.retry, max)}`);
        if (!waitForSignal) {
          timer = setTimeout(() => finish(), cardWaitMs);
        } else if (cardWaitMs > 0) {
          const seconds = cardWaitMs / 1000;
          timer = setTimeout(() => finish(new Error(`no "${CARD_BACK_TOPIC}" message within ${seconds} s; retry ${info.retry} was not sent`)), cardWaitMs);
        }
      });
    }

    /** A card-back message: releases this node's waits (only the named StoreOrderNo's when msg.payload is one). */
    function cardBack(msg: Msg): number {
      const only = typeof msg.payload === 'string' && msg.payload.trim() !== '' ? msg.payload.trim() : undefined;
      let released = 0;
      for (const wait of [...waits.values()]) {
        if (only !== undefined && wait.storeOrderNo !== only) continue;
        wait.release();
        released++;
      }
      return released;
    }

    function summary(result: RetryResult, history: Array<Record<string, unknown>>): Record<string, unknown> {
      const c = result.classification;
      const out: Record<string, unknown> = { ok: result.ok, attempts: result.attempts, reportToEasyCard: result.ok ? false : result.reportToEasyCard };
      if (result.duplicate === true) out.duplicate = true;
      if (result.resumed === true) out.resumed = true;
      if (result.storeOrderNo !== undefined) out.storeOrderNo = result.storeOrderNo;
      if (!result.ok) {
        out.reason = result.reason;
        out.resumable = result.resumable;
        out.message = result.message;
      }
      out.outcome = c.outcome;
      if (c.txnResult !== undefined) out.txnResult = c.txnResult;
      if (c.errorCode !== undefined) out.errorCode = c.errorCode;
      if (c.statusCode !== undefined) out.statusCode = c.statusCode;
      if (c.retry !== undefined) out.retry = c.retry;
      out.history = history;
      if (!result.ok && result.error !== undefined) {
        const e = result.error as Error & { code?: unknown };
        out.error = { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: e.message };
      }
      return out;
    }

    const fail = (msg: Msg, err: unknown, done: Done) => {
      if (isWonderError(err) && err.code === 'E_BUSY') status('yellow', 'ring', 'busy');
      else status('red', 'dot', 'error');
      if (isWonderError(err) || isEasyCardError(err)) {
        msg.easycard = { code: err.code, ...(isWonderError(err) && err.field !== undefined ? { field: err.field } : {}) };
      }
      // Whatever an error carries from Scan2Pay's reply goes out without the account's secrets.
      const client = handle?.client;
      done(translatedError(RED, client === undefined ? err : redactError((v) => client.redact(v), err), EC_NS));
    };

    async function retryOne(msg: Msg, send: Send, done: Done): Promise<void> {
      if (handle === undefined) throw new ValidationError('account', 'no EasyCard account is configured: pick an easycard-account in the node');
      if (handle.configError !== undefined) throw handle.configError;
      if (setupError !== undefined) throw setupError;
      const failed = failedResponseOf(msg.payload);
      const history: Array<Record<string, unknown>> = [];
      const onAttempt = (e: RetryAttemptEvent) => {
        const step: Record<string, unknown> = { retry: e.retry, outcome: e.classification.outcome };
        if (e.classification.txnResult !== undefined) step.txnResult = e.classification.txnResult;
        if (e.classification.errorCode !== undefined) step.errorCode = e.classification.errorCode;
        if (e.classification.statusCode !== undefined) step.statusCode = e.classification.statusCode;
        history.push(step);
      };
      // Throws (nothing sent) for a retry of this StoreOrderNo already running, a missing field or refund key.
      const result = await handle.retry!.run(failed, { waitForCard, signal: sendAbort.signal, onAttempt }, node.id);
      const out = msg;
      out.payload = handle.client!.redact(result.response);
      // The summary carries Scan2Pay codes and texts too: redacted like the payload.
      out.easycard = handle.client!.redact(summary(result, history));
      if (!result.ok && result.reason === 'aborted' && closing) {
        node.warn(ect(RED, 'log.cancelled', { storeOrderNo: result.storeOrderNo ?? '?', attempts: result.attempts }));
        done();
        return;
      }
      if (closing) {
        // The flow is stopping: the message may not get anywhere, so the outcome goes on record too.
        const outcome = result.ok ? 'completed' : result.reason;
        node.warn(ect(RED, 'log.finishedWhileStopping', { storeOrderNo: result.storeOrderNo ?? '?', outcome, attempts: result.attempts }));
      }
      if (result.ok) {
        status('green', 'dot', 'completed');
        send([out, null]);
      } else {
        status('red', 'ring', `reason.${result.reason}`);
        if (result.reportToEasyCard) {
          node.warn(ect(RED, 'log.report', { storeOrderNo: result.storeOrderNo ?? '?', reason: result.reason, detail: handle.client!.redact(result.message) }));
        }
        send([null, out]);
      }
      done();
    }

    // Runs of this node that a restart ended (found in the journal): reported on output 2, flagged recovered.
    const onStarted = () => {
      if (handle === undefined) return;
      for (const record of handle.takeRecovered((r) => r.node === node.id)) reportRecovered(RED, node, record);
    };
    const stopOnStarted = onFlowsStarted(RED.events, onStarted);

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      if (msg.topic === CARD_BACK_TOPIC) {
        cardBack(msg);
        done();
        return;
      }
      if (closing) {
        done(new Error(ect(RED, 'errors.stopping')));
        return;
      }
      const run = retryOne(msg, send, done).catch((err: unknown) => fail(msg, err, done));
      running.add(run);
      void run.finally(() => running.delete(run));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      stopOnStarted();
      closing = true;
      // Waits end now (nothing is sent for them); a request already sent may finish.
      waitAbort.abort();
      if (running.size === 0) {
        done();
        return;
      }
      const guard = setTimeout(() => sendAbort.abort(new Error('the node stopped')), CLOSE_GRACE_MS);
      void Promise.allSettled([...running]).then(() => {
        clearTimeout(guard);
        done();
      });
    });
  }

  RED.nodes.registerType('easycard-retry', EasyCardRetryNode as never);
};
