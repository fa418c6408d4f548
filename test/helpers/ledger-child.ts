/**
 * A payment process for the ledger's real-process tests:
 * `node ledger-child.js LEDGER PORT[,PORT…]` opens the ledger and one session
 * per simulated LAN terminal (each under its own place name), prints
 * `{"ready":true}`, then takes commands on stdin, one a line, and answers each
 * with JSON lines:
 *   sale I REF AMOUNT  a Sale on terminal I: {"ref","result","code","notSent","journalBehind"}
 *   burst              every terminal sells K<I>-<n>, one after another, for ever: {"done":REF} each
 *   recover            every terminal settles its open payments: {"recovered":[REF…]}
 *   close              closes the sessions and the ledger: {"closed":true}
 * A file-size limit (prlimit) makes writes fail with EFBIG rather than end
 * the process (SIGXFSZ is ignored), as a full disk does.
 */
import * as readline from 'node:readline';
import { openLedger } from '../../lib/ledger';
import { createTransport, terminalIdentity, TerminalSession, type Outcome } from '../../lib/session';

process.on('SIGXFSZ', () => undefined);

const [file, portList] = process.argv.slice(2);
const ledger = openLedger(file!);
const sessions = portList!.split(',').map((p) => {
  const config = { transport: 'lan', host: '127.0.0.1', port: Number(p) };
  return new TerminalSession({
    transport: createTransport(config),
    pairingCode: '260880',
    clientDeviceSN: 'LEDGER-CHILD',
    journal: ledger,
    terminalId: terminalIdentity(config, 'x'),
    statusPollIntervalMs: 50,
    resolveTimeoutMs: 5_000,
  });
});
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function sale(i: number, ref: string, amount: string): Promise<void> {
  try {
    const out: Outcome = await sessions[i]!.request('Sale', { amount, currency: 'HKD', referenceID: ref });
    say({ ref, result: out.result, ...(out.journalBehind !== undefined ? { journalBehind: out.journalBehind.code } : {}) });
  } catch (err) {
    const e = err as { code?: string; notSent?: boolean; message?: string };
    say({ ref, code: e.code, notSent: e.notSent, message: e.message });
  }
}

async function burst(i: number): Promise<void> {
  for (let n = 0; ; n++) {
    const ref = `K${i}-${n}`;
    await sessions[i]!.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: ref });
    say({ done: ref });
  }
}

async function main(): Promise<void> {
  await Promise.all(sessions.map((s) => s.open()));
  say({ ready: true });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, ...args] = line.trim().split(/\s+/);
    if (command === 'sale') void sale(Number(args[0]), args[1]!, args[2]!);
    else if (command === 'burst') for (let i = 0; i < sessions.length; i++) void burst(i).catch((err: Error) => say({ burstEnded: i, message: err.message }));
    else if (command === 'recover') {
      const all = await Promise.all(sessions.map((s) => s.recover()));
      say({ recovered: all.flat().filter((r) => r.outcome !== undefined).map((r) => r.entry.referenceID) });
    } else if (command === 'close') {
      await Promise.all(sessions.map((s) => s.close()));
      await ledger.close();
      say({ closed: true });
      process.exit(0);
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
