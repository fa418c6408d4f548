/** The Retry request built from a failed EasyCard response: which field comes from where (the seed's table). */
import { describeValue, isRecord, ValidationError } from '../protocol';
import { dataOf, EASYCARD_MAX_RETRIES, EASYCARD_METHOD, EASYCARD_REFUND_SERVICE_TYPES, requestOf, text } from './classify';
import type { Scan2PayRequestDraft } from './types';

export interface RetryData {
  DeviceId: string;
  Retry: string;
  Amount: string;
  StoreOrderNo: string;
  TerminalTXNNumber: string;
  HostSerialNumber: string;
  RefundKey?: string;
  ActionType?: string;
}

export interface RetryRequestDraft extends Scan2PayRequestDraft {
  Header: { Method: string; ServiceType: string; MchId: string };
  Data: RetryData;
}

export interface BuildRetryOptions {
  /** MchId to use when the failed response's Header has none. */
  mchIdFallback?: string;
  /**
   * The value for Data.RefundKey: the SHA-256 hex of the refund password
   * (`sha256Hex(password)`; Scan2PayClient does this). Required when the
   * service type is Refund / Cancel / EZCRefund.
   */
  refundKey?: string;
}

function requiredField(value: unknown, path: string): string {
  const t = text(value);
  if (t === undefined || t.length === 0) {
    throw new ValidationError(path, `is missing in the failed response (got ${describeValue(value)}); it is needed to build the retry`);
  }
  return t;
}

/**
 * The retry request for a failed EasyCard response, as the Retry API wants
 * it. Header: Method 31800, ServiceType and MchId of the failed response
 * (TradeKey and CreateTime are added by Scan2PayClient.send). Data: DeviceId =
 * Data.request.DeviceID, Retry = Data.Retry (not Data.request.Retry), Amount =
 * Data.request.Amount, StoreOrderNo = Data.OrderId, TerminalTXNNumber and
 * HostSerialNumber from Data.request; plus RefundKey and ActionType for
 * Refund / Cancel / EZCRefund.
 *
 * Throws ValidationError naming the missing path (e.g.
 * `Data.request.TerminalTXNNumber`) or `refundKey`.
 */
export function buildRetryRequest(failed: unknown, options: BuildRetryOptions = {}): RetryRequestDraft {
  if (!isRecord(failed)) {
    throw new ValidationError('response', `must be the decrypted Scan2Pay response of the failed transaction, got ${describeValue(failed)}`);
  }
  const header = failed.Header;
  if (!isRecord(header)) throw new ValidationError('Header', 'is missing in the failed response');
  const serviceType = requiredField(header.ServiceType, 'Header.ServiceType');
  const mchIdRaw = text(header.MchId) ?? text(header.MchID);
  const mchId = mchIdRaw !== undefined && mchIdRaw.length > 0 ? mchIdRaw : options.mchIdFallback;
  if (mchId === undefined || mchId.length === 0) {
    throw new ValidationError('Header.MchId', 'is missing in the failed response and no fallback merchant id was given');
  }
  const data = dataOf(failed);
  if (data === undefined) throw new ValidationError('Data', 'is missing in the failed response');
  const request = requestOf(data);
  if (request === undefined) throw new ValidationError('Data.request', 'is missing in the failed response');

  const retry = requiredField(data.Retry, 'Data.Retry').trim();
  if (!/^\d{1,3}$/.test(retry) || Number(retry) < 1 || Number(retry) > EASYCARD_MAX_RETRIES) {
    // Retry 0 would make it a new transaction, not a retry.
    throw new ValidationError('Data.Retry', `must be 1, 2 or 3 for a retry, got ${describeValue(data.Retry)}`);
  }

  const needsRefundKey = EASYCARD_REFUND_SERVICE_TYPES.some((s) => s.toLowerCase() === serviceType.toLowerCase());
  if (needsRefundKey && (typeof options.refundKey !== 'string' || options.refundKey.length === 0)) {
    throw new ValidationError('refundKey', `the refund password is required to retry a ${serviceType} transaction; configure it (nothing was sent)`);
  }

  const out: RetryData = {
    DeviceId: requiredField(request.DeviceID ?? request.DeviceId, 'Data.request.DeviceID'),
    Retry: String(Number(retry)),
    Amount: requiredField(request.Amount, 'Data.request.Amount'),
    StoreOrderNo: requiredField(data.OrderId, 'Data.OrderId'),
    TerminalTXNNumber: requiredField(request.TerminalTXNNumber, 'Data.request.TerminalTXNNumber'),
    HostSerialNumber: requiredField(request.HostSerialNumber, 'Data.request.HostSerialNumber'),
  };
  if (needsRefundKey) {
    out.RefundKey = options.refundKey as string;
    out.ActionType = text(data.ActionType) ?? text(request.ActionType) ?? '';
  }
  return { Header: { Method: EASYCARD_METHOD, ServiceType: serviceType, MchId: mchId }, Data: out };
}

