/**
 * The EasyCard runs in the ledger (table `easycard_runs`, unique by MchId and
 * StoreOrderNo): every retry run of an interrupted EasyCard payment, committed
 * before its first request leaves, so that a restart mid-run is resumed or
 * reported and a redelivered failed response of a settled payment is answered
 * from the record, never retried again. Two account nodes with one MchId share
 * the runs (one ledger per runtime) and never run one transaction at once.
 *
 * A record holds what the next retry needs (StoreOrderNo, DeviceId, Amount,
 * TerminalTXNNumber, HostSerialNumber, Retry) and how the run went: no card
 * data (no card number, balance or AES key of the reader), no secrets (no
 * TradeKey, no RefundKey).
 */
import type { Ledger, SqlValue } from '../ledger';

/**
 * `running`: a run is under way (in this process, or it was when the process
 * died). `interrupted`: stopped before its next retry was sent (a restart
 * during the card wait, a cancel, no connection): a redelivery resumes it from
 * the recorded Retry. `completed` / `failed`: settled for good.
 */
export type EasyCardRunState = 'running' | 'interrupted' | 'completed' | 'failed';

/** What the next retry is built from: the latest failed reply's fields (no card data, no secrets). */
export interface EasyCardRetryBasis {
  serviceType: string;
  mchId: string;
  /** The Retry value the next retry sends (1..3). */
  retry: string;
  deviceId: string;
  amount: string;
  terminalTXNNumber: string;
  hostSerialNumber: string;
  actionType?: string;
  /** ErrorCode of the failure being retried (000125 / 0462xx). */
  errorCode?: string;
}

/** How a run ended, as far as a redelivery needs to know. */
export interface EasyCardRecordResult {
  ok: boolean;
  reason?: string;
  reportToEasyCard: boolean;
  statusCode?: string;
  txnResult?: string;
  errorCode?: string;
  retry?: string;
  /** Scan2Pay's retrieval reference number of a completed payment. */
  rrNumber?: string;
  message?: string;
}

export interface EasyCardRecord {
  /** MchId/StoreOrderNo. */
  key: string;
  mchId: string;
  storeOrderNo: string;
  serviceType: string;
  /** The node that ran it (to report a run a restart ended). */
  node?: string;
  state: EasyCardRunState;
  /** Retry requests that reached (or may have reached) Scan2Pay. */
  attempts: number;
  /** The Retry value of a request sent and not answered yet. */
  inFlight?: number;
  next?: EasyCardRetryBasis;
  result?: EasyCardRecordResult;
  /** The run was ended by a restart (found `running` on start). */
  recovered?: boolean;
  /** That ending was reported (sent from its node, or logged). */
  reported?: boolean;
  startedAt: string;
  updatedAt: string;
}

interface RunRow {
  mch_id: string;
  store_order_no: string;
  service_type: string;
  node: string | null;
  state: string;
  attempts: number;
  in_flight: number | null;
  next_basis: string | null;
  result_ok: number | null;
  result_reason: string | null;
  report_to_easycard: number | null;
  status_code: string | null;
  txn_result: string | null;
  error_code: string | null;
  result_retry: string | null;
  rr_number: string | null;
  message: string | null;
  recovered: number;
  reported: number;
  started_at: number;
  updated_at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (text: string | undefined) => {
  const t = text === undefined ? NaN : Date.parse(text);
  return Number.isFinite(t) ? t : Date.now();
};

function rowOf(r: EasyCardRecord): Record<string, SqlValue> {
  const result = r.result;
  return {
    mch_id: r.mchId,
    store_order_no: r.storeOrderNo,
    service_type: r.serviceType,
    node: r.node ?? null,
    state: r.state,
    attempts: r.attempts,
    in_flight: r.inFlight ?? null,
    next_basis: r.next === undefined ? null : JSON.stringify(r.next),
    result_ok: result === undefined ? null : result.ok ? 1 : 0,
    result_reason: result?.reason ?? null,
    report_to_easycard: result === undefined ? null : result.reportToEasyCard ? 1 : 0,
    status_code: result?.statusCode ?? null,
    txn_result: result?.txnResult ?? null,
    error_code: result?.errorCode ?? null,
    result_retry: result?.retry ?? null,
    rr_number: result?.rrNumber ?? null,
    message: result?.message ?? null,
    recovered: r.recovered === true ? 1 : 0,
    reported: r.reported === true ? 1 : 0,
    started_at: ms(r.startedAt),
    updated_at: ms(r.updatedAt),
  };
}

function recordOf(row: RunRow): EasyCardRecord {
  const r: EasyCardRecord = {
    key: `${row.mch_id}/${row.store_order_no}`,
    mchId: row.mch_id,
    storeOrderNo: row.store_order_no,
    serviceType: row.service_type,
    state: row.state as EasyCardRunState,
    attempts: row.attempts,
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
  };
  if (row.node !== null) r.node = row.node;
  if (row.in_flight !== null) r.inFlight = row.in_flight;
  if (row.next_basis !== null) r.next = JSON.parse(row.next_basis) as EasyCardRetryBasis;
  if (row.result_ok !== null) {
    const result: EasyCardRecordResult = { ok: row.result_ok === 1, reportToEasyCard: row.report_to_easycard === 1 };
    if (row.result_reason !== null) result.reason = row.result_reason;
    if (row.status_code !== null) result.statusCode = row.status_code;
    if (row.txn_result !== null) result.txnResult = row.txn_result;
    if (row.error_code !== null) result.errorCode = row.error_code;
    if (row.result_retry !== null) result.retry = row.result_retry;
    if (row.rr_number !== null) result.rrNumber = row.rr_number;
    if (row.message !== null) result.message = row.message;
    r.result = result;
  }
  if (row.recovered === 1) r.recovered = true;
  if (row.recovered === 1 || row.reported === 1) r.reported = row.reported === 1;
  return r;
}

/** Per ledger: the runs under way in this process (whichever account node runs them), and whether a dead process's runs were ended. */
const shared = new WeakMap<Ledger, { running: Set<string> }>();

/** The key's MchId and StoreOrderNo (`MchId/StoreOrderNo`: the MchId has no slash). */
function split(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? [key, ''] : [key.slice(0, i), key.slice(i + 1)];
}

export class EasyCardJournal {
  readonly ledger: Ledger;
  /** Records written and not committed yet: what get() sees first. */
  readonly #pending = new Map<string, EasyCardRecord>();
  readonly #shared: { running: Set<string> };

  /**
   * The runs of `ledger`. The first EasyCardJournal of a ledger ends the runs
   * a dead process left `running`: a retry in flight has an unknown outcome
   * (failed, to report to EasyCard); otherwise it can resume (interrupted).
   */
  constructor(ledger: Ledger) {
    this.ledger = ledger;
    let s = shared.get(ledger);
    if (s === undefined) {
      s = { running: new Set() };
      shared.set(ledger, s);
      this.#endDeadRuns();
    }
    this.#shared = s;
  }

  #endDeadRuns(): void {
    const now = new Date().toISOString();
    for (const row of this.ledger.query<RunRow>("SELECT * FROM easycard_runs WHERE state = 'running'")) {
      const r = recordOf(row);
      const record: EasyCardRecord =
        r.inFlight !== undefined
          ? {
              ...r,
              state: 'failed',
              attempts: r.attempts + 1,
              result: {
                ok: false,
                reason: 'unknown-outcome',
                reportToEasyCard: true,
                message: `the process stopped while retry ${r.inFlight} was in flight: its outcome is unknown; do not resend: check the transaction and report it to EasyCard`,
              },
              recovered: true,
              reported: false,
              updatedAt: now,
            }
          : { ...r, state: 'interrupted', recovered: true, reported: false, updatedAt: now };
      delete record.inFlight;
      if (record.state === 'failed') delete record.next;
      void this.#write(record).catch(() => undefined);
    }
  }

  /** Runs under way in this process (shared by the account nodes of one ledger). */
  get running(): Set<string> {
    return this.#shared.running;
  }

  get(key: string): EasyCardRecord | undefined {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return structuredClone(pending);
    const [mchId, storeOrderNo] = split(key);
    const row = this.ledger.query<RunRow>('SELECT * FROM easycard_runs WHERE mch_id = ? AND store_order_no = ?', [mchId, storeOrderNo])[0];
    return row === undefined ? undefined : recordOf(row);
  }

  /** Runs a restart ended that are not reported yet. */
  unreported(): EasyCardRecord[] {
    const out = new Map<string, EasyCardRecord>();
    for (const row of this.ledger.query<RunRow>('SELECT * FROM easycard_runs WHERE recovered = 1 AND reported = 0')) {
      const r = recordOf(row);
      out.set(r.key, r);
    }
    for (const [key, r] of this.#pending) {
      if (r.recovered === true && r.reported === false) out.set(key, structuredClone(r));
      else out.delete(key);
    }
    return [...out.values()];
  }

  /** Writes a record (a whole new version of it): committed when the promise resolves. */
  put(record: EasyCardRecord): Promise<void> {
    const r: EasyCardRecord = { ...record, updatedAt: new Date().toISOString() };
    if (r.inFlight === undefined) delete r.inFlight;
    return this.#write(r);
  }

  async #write(r: EasyCardRecord): Promise<void> {
    this.#pending.set(r.key, r);
    try {
      await this.ledger.writeEasyCardRun(rowOf(r));
    } finally {
      if (this.#pending.get(r.key) === r) this.#pending.delete(r.key);
    }
  }

  /** Gives the ledger back. */
  close(): Promise<void> {
    return this.ledger.close();
  }
}
