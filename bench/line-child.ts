/**
 * A child process holding the terminals' side of many serial lines: socat pty
 * pairs, each with a simulated terminal (card delay 0) served by serveSerial,
 * paced at a baud rate when one is given. Sends `{ paths }` (the ECR ends)
 * over IPC when ready; stops on 'stop' or when the parent goes away.
 *
 * Usage: node line-child.js COUNT [PACE_BAUD]
 */
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { startPtyPair, type PtyPair } from '../test/helpers/pty';

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const pace = Number(process.argv[3] ?? 0);
  const pairs: PtyPair[] = [];
  for (let i = 0; i < count; i += 10) {
    pairs.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => startPtyPair({ timeoutMs: 20_000 })))));
  }
  // Each its own serial number, as real terminals have (one SN is one terminal, with one journal and one config node).
  const terminals = pairs.map((_, i) => new SimulatedTerminal({ cardDelayMs: 0, serverDeviceSN: `SIM-WONDER-${String(i + 1).padStart(4, '0')}` }));
  const servers: SerialServer[] = await Promise.all(
    pairs.map((pair, i) => serveSerial(terminals[i]!, pace > 0 ? { path: pair.b, paceBaud: pace } : { path: pair.b })),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(servers.map((s) => s.close()));
    for (const t of terminals) t.stop();
    await Promise.all(pairs.map((p) => p.stop()));
    process.exit(0);
  };
  process.on('message', (m) => {
    if (m === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.send!({ paths: pairs.map((p) => p.a) });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
