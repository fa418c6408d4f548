/**
 * `wonder-ecr easycard-retry`: completes an interrupted EasyCard payment from
 * a technician's shell, with the same retry procedure as the easycard-retry
 * node (lib/easycard runRetry).
 *
 * Secrets never come from the command line (they would show in `ps` and in
 * the shell history): the trade password and the refund password are read
 * from EASYCARD_PASSWORD and EASYCARD_REFUND_KEY only.
 */
import { readFileSync } from 'node:fs';
import * as readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { describeValue, isWonderError, renameField, validateSecondsMs, ValidationError } from '../protocol';
import { classifyFailure, EasyCardJournal, EasyCardRetry, failedResponseOf, makeRedactor, type Redactor, resolveEndpoint, type RetryResult, Scan2PayClient, type Scan2PayResponse } from '../easycard';
import { cliEasyCardJournalFile } from './state';
import type { CliIo } from './io';
import { readCaFile } from '../transport';

export const EASYCARD_EXIT = {
  completed: 0,
  cannotComplete: 1,
  badInput: 2,
  network: 3,
} as const;

export const EASYCARD_USAGE = `  wonder-ecr easycard-retry --endpoint stage|production|URL --mch-id ID --response FILE
      [--rsa-public-key FILE] [--aes-iv IV] [--card-wait SECONDS] [--time-zone ZONE] [--timeout SECONDS]
      [--ca FILE]   (a PEM CA to trust for the endpoint's HTTPS: a private or staging CA)
      [--journal FILE | --no-journal]   (default journal: $XDG_STATE_HOME/wonder-ecr/easycard-<MchId>.jsonl)
      secrets from the environment only: EASYCARD_PASSWORD (trade password), EASYCARD_REFUND_KEY
      (refund password, for Refund/Cancel/EZCRefund); EASYCARD_RSA_PUBLIC_KEY_FILE and EASYCARD_AES_IV
      stand in for --rsa-public-key and --aes-iv
      before each retry: press Enter once the card is back on the reader, or --card-wait SECONDS
      exit status: 0 completed, 1 cannot complete, 2 bad input (nothing sent), 3 network error or unknown outcome`;

const OPTIONS = {
  endpoint: { type: 'string' },
  'mch-id': { type: 'string' },
  response: { type: 'string' },
  'rsa-public-key': { type: 'string' },
  'aes-iv': { type: 'string' },
  'card-wait': { type: 'string' },
  'time-zone': { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string' },
  journal: { type: 'string' },
  'no-journal': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags that would put a secret on the command line: refused, whatever follows them. */
const SECRET_FLAGS = /^--(trade-?password|password|passwd|pass|refund-?key|refund-?password|trade-?key)(=|$)/i;

/** Library option names → what the user sets, for messages they can act on. */
const SOURCE_OF: Record<string, string> = {
  endpoint: '--endpoint',
  mchId: '--mch-id',
  tradePassword: 'EASYCARD_PASSWORD',
  refundKey: 'EASYCARD_REFUND_KEY',
  rsaPublicKey: '--rsa-public-key',
  aesIv: '--aes-iv',
  timeZone: '--time-zone',
  timeoutMs: '--timeout',
};

export interface EasyCardCliIo extends CliIo {
  /** Where Enter is read from (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

function oneLine(text: string): string {
  return `wonder-ecr: ${text.replace(/\s+/g, ' ')}`;
}

function endpointOf(value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new ValidationError('--endpoint', 'is required: stage, production or the https:// URL intella gave you');
  return resolveEndpoint(value, '--endpoint');
}

/** Seconds → ms; `allowZero` for a wait, otherwise above 0. */
function secondsOf(value: string | undefined, flag: string, allowZero: boolean, max: number): number | undefined {
  return value === undefined ? undefined : validateSecondsMs(value, flag, { allowZero, max });
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ValidationError(flag, `cannot read ${describeValue(file)} (${typeof code === 'string' ? code : 'error'})`);
  }
}

/** The failed response from --response: the decrypted Scan2Pay reply {Header, Data}. */
function failedResponseFrom(file: string | undefined): Scan2PayResponse {
  if (file === undefined || file === '') throw new ValidationError('--response', 'is required: a file holding the failed EasyCard response {Header, Data} as JSON ("-" for stdin)');
  return failedResponseOf(readText(file, '--response'), '--response');
}


/** Hands out one line of stdin per wait; lines typed while nothing waits are dropped (a double Enter must not skip a card). */
class EnterKey {
  #rl: readline.Interface | undefined;
  #pending: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #closed = false;

  constructor(private readonly input: NodeJS.ReadableStream) {}

  next(signal: AbortSignal): Promise<void> {
    if (this.#rl === undefined && !this.#closed) {
      this.#rl = readline.createInterface({ input: this.input, terminal: false });
      this.#rl.on('line', () => {
        const p = this.#pending;
        this.#pending = undefined;
        p?.resolve();
      });
      this.#rl.on('close', () => {
        this.#closed = true;
        const p = this.#pending;
        this.#pending = undefined;
        p?.reject(new Error('stdin was closed before Enter was pressed; use --card-wait SECONDS when there is no keyboard'));
      });
    }
    if (this.#closed) return Promise.reject(new Error('stdin is closed: nothing can press Enter; use --card-wait SECONDS'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#pending = undefined;
        reject(new Error('interrupted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
    });
  }

  close(): void {
    this.#closed = true;
    this.#rl?.close();
    this.#rl = undefined;
  }
}

function exitFor(result: RetryResult): number {
  if (result.ok) return EASYCARD_EXIT.completed;
  return result.reason === 'unknown-outcome' || result.reason === 'not-sent' ? EASYCARD_EXIT.network : EASYCARD_EXIT.cannotComplete;
}

/** The stdout line: the final response, plus how the retry ended. */
function lineOf(result: RetryResult, redact: <T>(value: T) => T): Record<string, unknown> {
  const line: Record<string, unknown> = {
    ...(redact(result.response) as Record<string, unknown>),
    ok: result.ok,
    attempts: result.attempts,
    reason: result.ok ? null : result.reason,
    reportToEasyCard: result.ok ? false : result.reportToEasyCard,
  };
  if (result.storeOrderNo !== undefined) line.storeOrderNo = result.storeOrderNo;
  if (result.duplicate === true) line.duplicate = true;
  if (result.resumed === true) line.resumed = true;
  if (!result.ok) {
    line.resumable = result.resumable;
    line.message = redact(result.message);
  }
  return line;
}

function clientFrom(v: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv, timeoutMs: number | undefined): Scan2PayClient {
  const endpoint = endpointOf(v.endpoint as string | undefined);
  const mchId = v['mch-id'] as string | undefined;
  if (mchId === undefined || mchId.trim() === '') throw new ValidationError('--mch-id', 'is required: the merchant id (MchId) intella assigned');
  const password = env.EASYCARD_PASSWORD;
  if (password === undefined || password === '') {
    throw new ValidationError('EASYCARD_PASSWORD', 'the trade password is required in the environment variable EASYCARD_PASSWORD (never on the command line)');
  }
  const keyFile = (v['rsa-public-key'] as string | undefined) ?? env.EASYCARD_RSA_PUBLIC_KEY_FILE;
  if (keyFile === undefined || keyFile === '') {
    throw new ValidationError('--rsa-public-key', "intella's RSA public key is required: --rsa-public-key FILE or EASYCARD_RSA_PUBLIC_KEY_FILE (a PEM file)");
  }
  const rsaPublicKey = readText(keyFile, '--rsa-public-key');
  const aesIv = (v['aes-iv'] as string | undefined) ?? env.EASYCARD_AES_IV;
  if (aesIv === undefined || aesIv === '') throw new ValidationError('--aes-iv', 'the 16-character AES IV from intella is required: --aes-iv IV or EASYCARD_AES_IV');
  const refundKey = env.EASYCARD_REFUND_KEY;
  const timeZone = v['time-zone'] as string | undefined;
  const caFile = v.ca as string | undefined;
  const ca = caFile !== undefined && caFile !== '' ? readCaFile(caFile, '--ca') : undefined;
  try {
    return new Scan2PayClient({
      endpoint,
      mchId: mchId.trim(),
      tradePassword: password,
      ...(refundKey !== undefined && refundKey !== '' ? { refundKey } : {}),
      rsaPublicKey,
      aesIv,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(timeZone !== undefined && timeZone !== '' ? { timeZone } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  } catch (err) {
    if (err instanceof ValidationError && err.field !== undefined && SOURCE_OF[err.field] !== undefined) {
      throw renameField(err, SOURCE_OF[err.field]!);
    }
    throw err;
  }
}

/** `wonder-ecr easycard-retry …` (argv without the command name). Resolves with the exit status. */
export async function runEasyCardRetryCli(argv: string[], io: EasyCardCliIo): Promise<number> {
  // Every line on stderr goes through the redactor: the secrets of the environment at first, then
  // the client's (which adds the TradeKey and the refund key's hash), by name and by value.
  let redact: Redactor = makeRedactor([io.env.EASYCARD_PASSWORD, io.env.EASYCARD_REFUND_KEY]);
  const say = (text: string): void => io.stderr(redact(text));
  const secretFlag = argv.find((a) => SECRET_FLAGS.test(a));
  if (secretFlag !== undefined) {
    const flag = secretFlag.split('=')[0]!.slice(0, 40);
    const variable = /refund/i.test(flag) ? 'EASYCARD_REFUND_KEY' : 'EASYCARD_PASSWORD';
    say(oneLine(`${flag} is not accepted: a password on the command line shows in ps and in the shell history; set ${variable} in the environment instead`));
    return EASYCARD_EXIT.badInput;
  }
  let v: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
    v = parsed.values;
  } catch (err) {
    say(oneLine(err instanceof Error ? err.message : String(err)));
    return EASYCARD_EXIT.badInput;
  }
  if (v.help === true) {
    say(`usage:\n${EASYCARD_USAGE}`);
    return EASYCARD_EXIT.completed;
  }

  let client: Scan2PayClient;
  let failed: Scan2PayResponse;
  let cardWaitMs: number | undefined;
  try {
    // Everything is checked before the first request: bad input sends nothing.
    cardWaitMs = secondsOf(v['card-wait'] as string | undefined, '--card-wait', true, 3600);
    const timeoutMs = secondsOf(v.timeout as string | undefined, '--timeout', false, 600);
    if (v.response === '-' && cardWaitMs === undefined) {
      throw new ValidationError('--card-wait', 'is required with --response - (stdin holds the response, so Enter cannot be read from it)');
    }
    failed = failedResponseFrom(v.response as string | undefined);
    client = clientFrom(v, io.env, timeoutMs);
    const withClient = client;
    redact = (value) => withClient.redact(value);
    // A retryable failure: its fields and the refund key are checked before any card is asked for.
    if (classifyFailure(failed).retryable) client.buildRetryRequest(failed);
  } catch (err) {
    say(oneLine(err instanceof Error ? err.message : String(err)));
    return isWonderError(err) && err.code === 'E_VALIDATION' ? EASYCARD_EXIT.badInput : EASYCARD_EXIT.network;
  }

  // The journal: a run is on record before its first request; a settled payment is answered from it.
  let journal: EasyCardJournal | undefined;
  try {
    if (v['no-journal'] === true && v.journal !== undefined) throw new ValidationError('--journal', 'cannot be given with --no-journal');
    if (v['no-journal'] !== true) {
      const file = typeof v.journal === 'string' && v.journal !== '' ? v.journal : cliEasyCardJournalFile(io.env, client.mchId);
      try {
        journal = new EasyCardJournal(file);
      } catch (err) {
        throw new ValidationError('--journal', `cannot open ${describeValue(file)} (${err instanceof Error ? err.message : String(err)}); nothing was sent`);
      }
    }
  } catch (err) {
    io.stderr(oneLine(err instanceof Error ? err.message : String(err)));
    return EASYCARD_EXIT.badInput;
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const enter = new EnterKey(io.stdin ?? process.stdin);
  try {
    const retrier = new EasyCardRetry(client, { waitForCard: () => Promise.reject(new Error('no card wait')) }, journal !== undefined ? { journal } : {});
    const result = await retrier.run(failed, {
      signal: controller.signal,
      waitForCard: async (_attempt, max, info) => {
        if (cardWaitMs === undefined) {
          say(`place the card on the reader again (${info.retry}/${max}), then press Enter`);
          await enter.next(controller.signal);
        } else {
          say(`place the card on the reader again (${info.retry}/${max}); retrying in ${cardWaitMs / 1000} s`);
          await sleep(cardWaitMs, undefined, { signal: controller.signal });
        }
        say(`sending retry ${info.retry}/${max} of ${info.storeOrderNo}`);
      },
      onAttempt: (e) => {
        const c = e.classification;
        say(`retry ${e.retry}/${e.max}: ${c.txnResult ?? 'no TXNResult'} (StatusCode ${c.statusCode ?? '-'}, ErrorCode ${c.errorCode ?? '-'})`);
      },
    });
    io.stdout(JSON.stringify(lineOf(result, (v) => client.redact(v))));
    if (!result.ok) {
      // Why it was cancelled (stdin closed, Ctrl-C) is not in the library's message.
      const why = result.reason === 'aborted' && result.error !== undefined ? ` (${result.error.message})` : '';
      say(oneLine(`${result.reason}: ${result.message}${why}`));
    } else {
      if (result.duplicate === true) say('settled earlier (from the journal): nothing was sent');
      say(`completed after ${result.attempts} ${result.attempts === 1 ? 'retry' : 'retries'}`);
    }
    return exitFor(result);
  } catch (err) {
    // runRetry throws only for bad input, before anything is sent.
    say(oneLine(err instanceof Error ? err.message : String(err)));
    return isWonderError(err) && err.code === 'E_VALIDATION' ? EASYCARD_EXIT.badInput : EASYCARD_EXIT.network;
  } finally {
    enter.close();
    process.off('SIGINT', onSigint);
    journal?.close();
  }
}
