import { readCaFile } from '../../lib/transport';
import { isWonderError, renameField, validateSecondsMs, ValidationError, WonderError } from '../../lib/protocol';
import { openLedger } from '../../lib/ledger';
import { EasyCardJournal, type EasyCardRecord, EasyCardRetry, resolveEndpoint, type RetryClient, Scan2PayClient } from '../../lib/easycard';

/** The easycard-account node's properties, as the editor saves them. */
export interface EasyCardAccountDef {
  endpoint?: string;
  mchId?: string;
  timeZone?: string;
  timeout?: string | number;
  /** A PEM CA file on this host to trust for the endpoint's HTTPS (a private or staging CA). */
  caFile?: string;
}

/** The library's option names → the node's property names, for errors a user can act on. */
const FIELD_NAMES: Record<string, string> = {
  tradePassword: 'password',
  timeoutMs: 'timeout',
};

/** Its credentials (never exported with the flow). */
export interface EasyCardAccountCredentials {
  password?: string;
  refundKey?: string;
  rsaPublicKey?: string;
  aesIv?: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_TIMEOUT_SECONDS = 600;

function timeoutMsOf(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_TIMEOUT_SECONDS * 1000;
  return validateSecondsMs(value, 'timeout', { max: MAX_TIMEOUT_SECONDS });
}

function renamed(err: unknown): unknown {
  if (!(err instanceof ValidationError) || err.field === undefined) return err;
  const name = FIELD_NAMES[err.field];
  if (name === undefined) return err;
  return renameField(err, name);
}

/**
 * What an easycard-account config node owns: one Scan2PayClient for its
 * merchant, and one EasyCardRetry in front of it, so two flows can never
 * drive the same StoreOrderNo at once. When the config is unusable,
 * `configError` says why (naming the field) and nothing else is set.
 */
export class EasyCardAccountHandle {
  readonly client: Scan2PayClient | undefined;
  readonly retry: EasyCardRetry | undefined;
  readonly configError: WonderError | undefined;
  /** Every retry run of this merchant, on disk before its first request leaves. */
  readonly journal: EasyCardJournal | undefined;

  /** `ledger`: the runtime's ledger file and its owner (the EasyCard runs live there, shared by accounts of one MchId). */
  constructor(def: EasyCardAccountDef, credentials: EasyCardAccountCredentials | undefined, ledger?: { file: string; owner?: unknown }) {
    const creds = credentials ?? {};
    let client: Scan2PayClient | undefined;
    let retry: EasyCardRetry | undefined;
    let configError: WonderError | undefined;
    let journal: EasyCardJournal | undefined;
    try {
      const endpoint = resolveEndpoint(def.endpoint, 'endpoint');
      const timeoutMs = timeoutMsOf(def.timeout);
      const caFile = typeof def.caFile === 'string' ? def.caFile.trim() : '';
      client = new Scan2PayClient({
        endpoint,
        mchId: typeof def.mchId === 'string' ? def.mchId.trim() : (def.mchId as unknown as string),
        tradePassword: creds.password as string,
        ...(typeof creds.refundKey === 'string' && creds.refundKey !== '' ? { refundKey: creds.refundKey } : {}),
        rsaPublicKey: creds.rsaPublicKey as string,
        aesIv: creds.aesIv as string,
        timeoutMs,
        ...(caFile !== '' ? { ca: readCaFile(caFile, 'caFile') } : {}),
        ...(typeof def.timeZone === 'string' && def.timeZone.trim() !== '' ? { timeZone: def.timeZone.trim() } : {}),
      });
      if (ledger !== undefined) {
        try {
          journal = new EasyCardJournal(openLedger(ledger.file, ledger.owner !== undefined ? { owner: ledger.owner } : {}));
        } catch (cause) {
          // Without its record a retry could run twice after a restart: none is run.
          throw new WonderError('E_VALIDATION', `the ledger cannot be opened: ${(cause as Error).message}`, { cause, field: 'journal' });
        }
      }
      retry = new EasyCardRetry(
        client as RetryClient,
        {
          // Every run brings its own wait (the easycard-retry node's); this one is never used.
          waitForCard: () => Promise.reject(new Error('no card wait configured')),
        },
        journal !== undefined ? { journal } : {},
      );
    } catch (err) {
      const e = renamed(err);
      configError = isWonderError(e) ? e : new WonderError('E_VALIDATION', e instanceof Error ? e.message : String(e), { cause: e });
      client = undefined;
      retry = undefined;
      journal?.close().catch(() => undefined);
      journal = undefined;
    }
    this.client = client;
    this.retry = retry;
    this.configError = configError;
    this.journal = journal;
  }

  /**
   * Runs a restart ended, not reported yet, that `accept` takes (and so
   * reports): each is marked reported in the journal.
   */
  takeRecovered(accept: (record: EasyCardRecord) => boolean): EasyCardRecord[] {
    if (this.journal === undefined) return [];
    const taken: EasyCardRecord[] = [];
    for (const record of this.journal.unreported()) {
      if (!accept(record)) continue;
      const reported = { ...record, reported: true };
      this.journal.put(reported).catch(() => undefined);
      taken.push(reported);
    }
    return taken;
  }

  close(): Promise<void> {
    return this.journal?.close() ?? Promise.resolve();
  }

  /** Whether a refund password is configured (needed to retry Refund / Cancel / EZCRefund). */
  get hasRefundKey(): boolean {
    return this.client?.hasRefundKey === true;
  }

  toJSON(): Record<string, unknown> {
    return { client: this.client?.toJSON(), configError: this.configError?.message };
  }
}
