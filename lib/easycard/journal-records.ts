/**
 * Between retry runs and EasyCard journal records: what a record keeps of a
 * run (no card data, no secrets) and what a record gives back (a retry to
 * resume from, or the recorded result of a settled payment).
 */
import type { EasyCardRecord, EasyCardRecordResult, EasyCardRetryBasis } from './journal';
import { classifyFailure, EASYCARD_METHOD, SCAN2PAY_STATUS_OK } from './classify';
import type { RetryResult } from './retry';
import type { RetryRequestDraft } from './retry-request';
import type { Scan2PayResponse } from './types';

/** The fields of a retry draft the next retry is built from (RefundKey left out: it comes from the credentials). */
export function basisOf(draft: RetryRequestDraft, errorCode: string | undefined): EasyCardRetryBasis {
  const d = draft.Data;
  const basis: EasyCardRetryBasis = {
    serviceType: draft.Header.ServiceType,
    mchId: draft.Header.MchId,
    retry: d.Retry,
    deviceId: d.DeviceId,
    amount: d.Amount,
    terminalTXNNumber: d.TerminalTXNNumber,
    hostSerialNumber: d.HostSerialNumber,
  };
  if (d.ActionType !== undefined) basis.actionType = d.ActionType;
  if (errorCode !== undefined) basis.errorCode = errorCode;
  return basis;
}

/** A failed response rebuilt from a record: a retry run started from it sends the recorded next Retry. */
export function failedResponseFromBasis(record: EasyCardRecord, basis: EasyCardRetryBasis): Scan2PayResponse {
  const request: Record<string, string> = {
    DeviceID: basis.deviceId,
    Amount: basis.amount,
    TerminalTXNNumber: basis.terminalTXNNumber,
    HostSerialNumber: basis.hostSerialNumber,
    ServiceType: basis.serviceType,
  };
  const data: Record<string, unknown> = {
    request,
    TXNResult: 'Fail',
    Retry: basis.retry,
    ErrorCode: basis.errorCode ?? '000125',
    OrderId: record.storeOrderNo,
  };
  if (basis.actionType !== undefined) data.ActionType = basis.actionType;
  return { Header: { StatusCode: SCAN2PAY_STATUS_OK, Method: EASYCARD_METHOD, ServiceType: basis.serviceType, MchId: basis.mchId }, Data: data };
}

/** What a record keeps of a run's result. */
export function recordResultOf(result: RetryResult): EasyCardRecordResult {
  const c = result.classification;
  const out: EasyCardRecordResult = { ok: result.ok, reportToEasyCard: result.ok ? false : result.reportToEasyCard };
  if (!result.ok) {
    out.reason = result.reason;
    out.message = result.message;
  }
  if (c.statusCode !== undefined) out.statusCode = c.statusCode;
  if (c.txnResult !== undefined) out.txnResult = c.txnResult;
  if (c.errorCode !== undefined) out.errorCode = c.errorCode;
  if (c.retry !== undefined) out.retry = String(c.retry);
  const data = typeof result.response?.Data === 'object' && result.response.Data !== null ? (result.response.Data as Record<string, unknown>) : {};
  if (typeof data.RRNumber === 'string') out.rrNumber = data.RRNumber;
  return out;
}

/** The recorded result of a settled run, as a run's result (`duplicate`: nothing was sent). */
export function resultFromRecord(record: EasyCardRecord): RetryResult {
  const r: EasyCardRecordResult = record.result ?? { ok: false, reason: 'unknown-outcome', reportToEasyCard: true };
  const data: Record<string, unknown> = { OrderId: record.storeOrderNo };
  if (r.txnResult !== undefined) data.TXNResult = r.txnResult;
  if (r.errorCode !== undefined) data.ErrorCode = r.errorCode;
  if (r.retry !== undefined) data.Retry = r.retry;
  if (r.rrNumber !== undefined) data.RRNumber = r.rrNumber;
  const header: Record<string, unknown> = { Method: EASYCARD_METHOD, ServiceType: record.serviceType, MchId: record.mchId };
  if (r.statusCode !== undefined) header.StatusCode = r.statusCode;
  const response = { Header: header, Data: data } as Scan2PayResponse;
  const classification = classifyFailure(response);
  if (r.ok) return { ok: true, duplicate: true, response, attempts: record.attempts, storeOrderNo: record.storeOrderNo, classification };
  return {
    ok: false,
    duplicate: true,
    reason: (r.reason ?? 'unknown-outcome') as Extract<RetryResult, { ok: false }>['reason'],
    attempts: record.attempts,
    response,
    reportToEasyCard: r.reportToEasyCard,
    resumable: false,
    storeOrderNo: record.storeOrderNo,
    classification,
    message: r.message ?? 'settled earlier; nothing was sent again',
  };
}
