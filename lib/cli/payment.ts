/**
 * The command line's promises for payments, the same as the nodes': a
 * ledger (so the same --reference is never sent twice), the reference shown
 * before a payment leaves, and an interrupt that aborts and then settles the
 * payment instead of leaving it behind.
 */
import * as path from 'node:path';
import { cliStateDirectory, LEDGER_FILE_NAME, openLedger, type Ledger } from '../ledger';

/** The ledger a payment command keeps: `--ledger FILE` (old name `--journal`), none with `--no-ledger`, else the state directory's `ledger.db`. */
export function openCliLedger(options: { ledger?: string; noLedger?: boolean }, env: NodeJS.ProcessEnv): Ledger | undefined {
  if (options.noLedger === true) return undefined;
  return openLedger(options.ledger ?? path.join(cliStateDirectory(env), LEDGER_FILE_NAME));
}

export interface InterruptIo {
  stderr: (line: string) => void;
}

/**
 * Runs a payment so that SIGINT or SIGTERM does not leave it unknown: the
 * first signal sends Abort and waits for the payment's own outcome (which may
 * still be an approval: the card may have been read); a second one stops
 * waiting, and the outcome is reported unknown with its reference.
 */
export async function interruptible<T>(work: Promise<T>, hooks: { abort: () => Promise<unknown>; giveUp: () => Promise<void>; reference: () => string | undefined }, io: InterruptIo): Promise<T> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    const ref = hooks.reference();
    if (signals === 1) {
      io.stderr(`wonder-ecr: ${signal}: sending Abort; waiting for the outcome of ${ref ?? 'the payment'} (again to stop waiting)`);
      hooks.abort().catch((err: unknown) => io.stderr(`wonder-ecr: Abort not sent: ${err instanceof Error ? err.message : String(err)}`));
    } else {
      io.stderr(`wonder-ecr: ${signal}: no longer waiting; the outcome of ${ref ?? 'the payment'} is unknown: ask it with status --target-reference ${ref ?? 'REFERENCE'}`);
      void hooks.giveUp();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
