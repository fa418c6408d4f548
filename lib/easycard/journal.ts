/**
 * The EasyCard journal: every retry run of an interrupted EasyCard payment,
 * on disk before its first request leaves, so that a restart mid-run is
 * resumed or reported and a redelivered failed response of a settled payment
 * is answered from the record, never retried again.
 *
 * JSON lines, one whole record per line (the last line of a key wins),
 * appended and fsync'd synchronously (retries are rare and wait for a
 * cardholder: a blocking fsync costs nothing here). Directory 0700, file 0600,
 * never opened through a symbolic link. A record holds what the next retry
 * needs (StoreOrderNo, DeviceId, Amount, TerminalTXNNumber, HostSerialNumber,
 * Retry) and how the run went: no card data (no card number, balance or AES
 * key of the reader), no secrets (no TradeKey, no RefundKey).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDirectory, openPrivateAppend, readPrivateFile, writePrivateFileAtomic } from '../session';

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

export interface EasyCardJournalOptions {
  /** Settled records kept (default 10,000); older ones are dropped when the file is rewritten on start. */
  maxSettled?: number;
}

const MAX_FILE_BYTES = 256 * 1024 * 1024;

export class EasyCardJournal {
  readonly file: string;
  readonly #records = new Map<string, EasyCardRecord>();
  #fd: number | undefined;
  /** The file does not end with a whole line (a write torn by a power cut): it is rewritten before appending. */
  #torn = false;

  constructor(file: string, options: EasyCardJournalOptions = {}) {
    this.file = file;
    const dir = path.dirname(file);
    // Missing folders are made 0700; an existing one must be this user's and closed to others (never chmodded).
    ensurePrivateDirectory(dir);
    const lines = this.#load();
    const maxSettled = options.maxSettled ?? 10_000;
    // Runs a dead process left `running`: a retry in flight has an unknown outcome; otherwise it can resume.
    const now = new Date().toISOString();
    const ended: EasyCardRecord[] = [];
    for (const r of this.#records.values()) {
      if (r.state !== 'running') continue;
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
      ended.push(record);
    }
    for (const r of ended) this.#records.set(r.key, r);
    const settled = [...this.#records.values()].filter((r) => r.state === 'completed' || r.state === 'failed');
    if (this.#torn || lines > 2 * (this.#records.size + 1) || settled.length > maxSettled) {
      // Rewrite: one line per record, the oldest settled ones beyond the bound dropped.
      const drop = new Set(settled.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt)).slice(0, Math.max(0, settled.length - maxSettled)).map((r) => r.key));
      for (const key of drop) this.#records.delete(key);
      writePrivateFileAtomic(file, [...this.#records.values()].map((r) => `${JSON.stringify(r)}\n`).join(''));
      this.#fd = openPrivateAppend(file);
    } else {
      this.#fd = openPrivateAppend(file);
      for (const r of ended) this.#append(r);
    }
  }

  get(key: string): EasyCardRecord | undefined {
    const r = this.#records.get(key);
    return r === undefined ? undefined : structuredClone(r);
  }

  /** Runs a restart ended that are not reported yet. */
  unreported(): EasyCardRecord[] {
    return [...this.#records.values()].filter((r) => r.recovered === true && r.reported === false).map((r) => structuredClone(r));
  }

  /** Writes a record (a whole new version of it): on disk (fsync'd) when this returns. */
  put(record: EasyCardRecord): void {
    const r: EasyCardRecord = { ...record, updatedAt: new Date().toISOString() };
    if (r.inFlight === undefined) delete r.inFlight;
    this.#append(r);
    this.#records.set(r.key, r);
  }

  close(): void {
    if (this.#fd === undefined) return;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(record: EasyCardRecord): void {
    if (this.#fd === undefined) throw new Error(`the EasyCard journal ${this.file} is closed`);
    fs.writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    fs.fdatasyncSync(this.#fd);
  }

  /** Reads the file (a torn last line from a power cut is dropped); returns the number of lines. */
  #load(): number {
    const raw = readPrivateFile(this.file, MAX_FILE_BYTES);
    if (raw === undefined) return 0;
    const text = raw.toString('utf8');
    this.#torn = text.length > 0 && !text.endsWith('\n');
    const lines = text.split('\n');
    let count = 0;
    for (const line of lines) {
      if (line.trim() === '') continue;
      count++;
      let record: EasyCardRecord;
      try {
        record = JSON.parse(line) as EasyCardRecord;
      } catch {
        continue;
      }
      if (typeof record?.key === 'string' && typeof record.state === 'string') this.#records.set(record.key, record);
    }
    return count;
  }
}
