/** Shapes of Scan2Pay messages, as far as this library relies on them. */

export interface Scan2PayRequestHeader {
  Method: string;
  ServiceType: string;
  MchId: string;
  TradeKey: string;
  CreateTime: string;
}

/** A request as sent (before encryption). Scan2Pay wants `Data` as a JSON string. */
export interface Scan2PayRequest {
  Header: Scan2PayRequestHeader;
  Data: string;
}

/**
 * A request before the client adds its credentials: `TradeKey` and
 * `CreateTime` are filled in by Scan2PayClient at send time, and `MchId` too
 * when left out. `Data` may be an object (the client serialises it) or the
 * JSON string itself.
 */
export interface Scan2PayRequestDraft {
  Header: { Method: string; ServiceType: string; MchId?: string };
  Data: object | string;
}

export interface Scan2PayResponseHeader {
  StatusCode?: string;
  StatusDesc?: string;
  Method?: string;
  ServiceType?: string;
  MchId?: string;
  ResponseTime?: string;
  [field: string]: unknown;
}

/** A decrypted reply. `Data` differs by service and result. */
export interface Scan2PayResponse {
  Header: Scan2PayResponseHeader;
  Data?: Record<string, unknown> | string;
  [field: string]: unknown;
}
