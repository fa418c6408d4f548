/** One retry run at a time per transaction, and the memory (journal) of the ones completed. */
import { BusyError, isRecord, ValidationError } from '../protocol';
import { classifyFailure, dataOf, text } from './classify';
import type { EasyCardJournal, EasyCardRecord } from './journal';
import { basisOf, failedResponseFromBasis, recordResultOf, resultFromRecord } from './journal-records';
import { runRetry, type RetryClient, type RetryResult, type RunRetryOptions } from './retry';

/** Transactions whose run ended for good, remembered in memory beside the journal. */
const FINISHED_KEPT = 1000;


export interface EasyCardRetryOptions {
  /** Where every run is recorded before its first request leaves (see EasyCardJournal). */
  journal?: EasyCardJournal;
}

/**
 * runRetry with fixed options, and one run at a time per transaction: a second
 * run for a MchId + StoreOrderNo that is being retried is refused (BusyError),
 * so two flows can never drive the same card transaction at once.
 */
export class EasyCardRetry {
  readonly #client: RetryClient;
  readonly #options: RunRetryOptions;
  readonly #journal: EasyCardJournal | undefined;
  /** Runs under way: the journal's (shared by the account nodes of one ledger), else this retrier's own. */
  readonly #running: Set<string>;
  /** Runs under way, to wait for (`drain`) before the journal is closed. */
  readonly #runs = new Set<Promise<unknown>>();
  /** Final results by MchId + StoreOrderNo, newest last (bounded): a redelivered failed response is not retried again. */
  readonly #finished = new Map<string, RetryResult>();

  constructor(client: RetryClient, options: RunRetryOptions, more: EasyCardRetryOptions = {}) {
    if (!isRecord(client) || typeof client.send !== 'function' || typeof client.buildRetryRequest !== 'function') {
      throw new ValidationError('client', 'must be a Scan2PayClient');
    }
    if (!isRecord(options) || typeof options.waitForCard !== 'function') {
      throw new ValidationError('waitForCard', 'a function that resolves when the card is back on the reader is required');
    }
    this.#client = client;
    this.#options = options;
    this.#journal = more.journal;
    this.#running = more.journal?.running ?? new Set<string>();
  }

  /** Transactions (MchId/StoreOrderNo) being retried now. */
  get running(): string[] {
    return [...this.#running];
  }

  get journal(): EasyCardJournal | undefined {
    return this.#journal;
  }

  /**
   * One retry run. `origin` (a node id) is kept in the journal, to report
   * from it a run that a restart ended.
   */
  run(failedResponse: unknown, overrides: Partial<RunRetryOptions> = {}, origin?: string): Promise<RetryResult> {
    const run = this.#run(failedResponse, overrides, origin);
    this.#runs.add(run);
    const forget = () => this.#runs.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Resolves once no run is under way (each ends by itself, or by its signal). */
  async drain(): Promise<void> {
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  async #run(failedResponse: unknown, overrides: Partial<RunRetryOptions>, origin: string | undefined): Promise<RetryResult> {
    const key = transactionKey(failedResponse, this.#client.mchId);
    if (key !== undefined && this.#running.has(key)) {
      throw new BusyError(`a retry for ${key} is already running`);
    }
    const earlier = key === undefined ? undefined : this.#finished.get(key);
    // Settled already (completed, or ended for good): retrying again could charge twice or burn a retry.
    if (earlier !== undefined) return { ...earlier, duplicate: true };
    const record = key === undefined ? undefined : this.#journal?.get(key);
    if (record !== undefined && (record.state === 'completed' || record.state === 'failed')) return resultFromRecord(record);
    if (key !== undefined) this.#running.add(key);
    try {
      const options = { ...this.#options, ...overrides };
      const result =
        this.#journal !== undefined && key !== undefined
          ? await this.#runJournalled(this.#journal, key, failedResponse, options, record, origin)
          : await runRetry(this.#client, failedResponse, options);
      // Nothing reached Scan2Pay (not-sent, aborted before a retry): it may be run again later.
      const final = result.ok || !result.resumable;
      if (key !== undefined && final && (result.ok || result.attempts > 0)) {
        this.#finished.set(key, result);
        if (this.#finished.size > FINISHED_KEPT) this.#finished.delete(this.#finished.keys().next().value!);
      }
      return result;
    } finally {
      if (key !== undefined) this.#running.delete(key);
    }
  }

  /**
   * The run, recorded: the record is on disk before the card is asked for,
   * the Retry in flight before each request leaves, each reply and the end.
   * An interrupted run resumes from its recorded Retry (or from the failed
   * response given, when that one is further on).
   */
  async #runJournalled(
    journal: EasyCardJournal,
    key: string,
    failedResponse: unknown,
    options: RunRetryOptions,
    record: EasyCardRecord | undefined,
    origin: string | undefined,
  ): Promise<RetryResult> {
    let input = failedResponse;
    let resumed = false;
    if (record?.next !== undefined) {
      const given = classifyFailure(failedResponse);
      if (!given.retryable || (given.retry ?? 0) <= Number(record.next.retry)) {
        input = failedResponseFromBasis(record, record.next);
        resumed = true;
      }
    }
    const classification = classifyFailure(input);
    if (!classification.retryable) return runRetry(this.#client, input, options);
    // Checks every field (and the refund key) before anything is written or asked for.
    const draft = this.#client.buildRetryRequest(input);
    const base = record?.attempts ?? 0;
    let current: EasyCardRecord = {
      key,
      mchId: draft.Header.MchId,
      storeOrderNo: draft.Data.StoreOrderNo,
      serviceType: draft.Header.ServiceType,
      ...(origin !== undefined ? { node: origin } : record?.node !== undefined ? { node: record.node } : {}),
      state: 'running',
      attempts: base,
      next: basisOf(draft, classification.errorCode),
      startedAt: record?.startedAt ?? new Date().toISOString(),
      updatedAt: '',
    };
    await journal.put(current);
    const update = (change: Partial<EasyCardRecord>) => {
      current = { ...current, ...change };
      return journal.put(current);
    };
    const result = await runRetry(this.#client, input, {
      ...options,
      waitForCard: async (attempt, max, info) => {
        await options.waitForCard(attempt, max, info);
        // The card is back: the retry goes out next. Committed first.
        await update({ inFlight: info.retry });
      },
      onAttempt: (e) => {
        let next: EasyCardRecord['next'];
        if (e.classification.retryable) {
          try {
            next = basisOf(this.#client.buildRetryRequest(e.response), e.classification.errorCode);
          } catch {
            next = undefined;
          }
        }
        const change: Partial<EasyCardRecord> = { attempts: base + e.attempt, inFlight: undefined, next };
        current = { ...current, ...change };
        if (next === undefined) delete current.next;
        // Committed in order before the next retry's record (the writer keeps the order); the end is awaited below.
        journal.put(current).catch(() => undefined);
        options.onAttempt?.(e);
      },
    });
    const total = { ...result, attempts: base + result.attempts, ...(resumed ? { resumed: true } : {}) } as RetryResult;
    const final = total.ok || !total.resumable;
    const end: EasyCardRecord = { ...current, attempts: total.attempts, state: total.ok ? 'completed' : final ? 'failed' : 'interrupted' };
    delete end.inFlight;
    if (final) {
      delete end.next;
      end.result = recordResultOf(total);
    }
    await journal.put(end);
    return total;
  }

  toJSON(): { running: string[] } {
    return { running: this.running };
  }
}

function transactionKey(response: unknown, mchIdFallback: string): string | undefined {
  if (!isRecord(response)) return undefined;
  const data = dataOf(response);
  const orderNo = data === undefined ? undefined : text(data.OrderId);
  if (orderNo === undefined) return undefined;
  const header = isRecord(response.Header) ? response.Header : {};
  return `${text(header.MchId) ?? text(header.MchID) ?? mchIdFallback}/${orderNo}`;
}

