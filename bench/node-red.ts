import helper from 'node-red-node-test-helper';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { coreNode, nodeRedMain } from '../test/helpers/node-red-install';
import { SALE } from './fixtures';

/**
 * The real Node-RED runtime, in this process, through node-red-node-test-helper
 * (as the tests use it), with a user directory of its own for the journals.
 */
let userDir: string | undefined;

export async function startRuntime(): Promise<typeof helper> {
  if (userDir === undefined) {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-'));
    helper.init(nodeRedMain(), { userDir });
    await new Promise<void>((resolve, reject) => helper.startServer((err?: unknown) => (err ? reject(err) : resolve())));
  }
  return helper;
}

/** Node methods the test helper wraps in sinon spies on every load (see its PROXY_METHODS). */
const SPIED = ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send'] as const;
type Methods = Record<string, unknown>;

/**
 * Loads a flow, then takes the test helper's sinon spies off Node.prototype
 * and RED.log: they record every call with its arguments (every message
 * sent) for tests to inspect, which a real runtime does not do and which
 * grows the heap by every message. The helper's own unload restores them.
 */
export async function loadFlow(flow: unknown[], credentials: Record<string, unknown>, extraModules: unknown[] = []): Promise<void> {
  const h = helper as unknown as { _NodePrototype: Methods; _log: Methods };
  const originals = Object.fromEntries(SPIED.map((m) => [m, h._NodePrototype[m]]));
  const originalLog = h._log.log;
  await helper.load([...nodeModules(), ...extraModules], flow, credentials);
  const proxySend = h._NodePrototype.send;
  for (const m of SPIED) h._NodePrototype[m] = originals[m];
  h._log.log = originalLog;
  // A node with wires keeps its own reference to send, taken when it was made.
  for (const def of flow as Array<{ id?: string }>) {
    const node = def.id === undefined ? null : (helper.getNode(def.id) as unknown as Methods | null);
    if (node !== null && node.send === proxySend) node.send = originals.send;
  }
}

export async function stopRuntime(): Promise<void> {
  if (userDir === undefined) return;
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  fs.rmSync(userDir, { recursive: true, force: true });
  userDir = undefined;
}

/** The compiled nodes (next to this file's folder, as in dist/) and the core inject node (the helper brings catch). */
export function nodeModules(): unknown[] {
  const dist = path.join(__dirname, '..', 'nodes');
  return [
    require(path.join(dist, 'wonder-terminal.js')),
    require(path.join(dist, 'wonder-sale.js')),
    coreNode('common/20-inject.js'),
  ];
}

/** What the benchmark reads off a deployed wonder-terminal config node. */
export interface DeployedTerminal {
  wonder: { state: string; session?: { transport: unknown } };
}

export function terminalNode(id: string): DeployedTerminal {
  return helper.getNode(id) as unknown as DeployedTerminal;
}

/** Waits until every listed terminal is connected. */
export async function connected(ids: readonly string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = ids.filter((id) => terminalNode(id).wonder.state !== 'connected');
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`terminals not connected within ${timeoutMs} ms: ${waiting.slice(0, 5).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The Sale of part 1 (the session makes the referenceID). */
export const SALE_PAYLOAD = JSON.stringify({ amount: SALE.amount, currency: SALE.currency, customerOrderID: SALE.customerOrderID });

/** inject → wonder-sale → helper, on terminal `terminal`, ids suffixed with `suffix`. */
export function saleFlowNodes(tab: string, terminal: string, suffix: string): Record<string, unknown>[] {
  return [
    {
      id: `in${suffix}`,
      type: 'inject',
      z: tab,
      props: [{ p: 'payload' }],
      payload: SALE_PAYLOAD,
      payloadType: 'json',
      repeat: '',
      crontab: '',
      once: false,
      topic: '',
      wires: [[`sale${suffix}`]],
    },
    { id: `sale${suffix}`, type: 'wonder-sale', z: tab, terminal, wires: [[`out${suffix}`]] },
    { id: `out${suffix}`, type: 'helper', z: tab },
  ];
}

/** One catch node for the whole tab (the test helper registers catch once per catch node, so only one fits). */
export function catchNodes(tab: string): Record<string, unknown>[] {
  return [
    { id: 'caught', type: 'catch', z: tab, scope: null, uncaught: false, wires: [['errors']] },
    { id: 'errors', type: 'helper', z: tab },
  ];
}

export interface SaleResult {
  ms: number;
  result: string;
}

/**
 * Presses inject `suffix` and waits for the sale's message at its output.
 * Its listeners are taken off with removeListener: a Node-RED node keeps
 * 'input' listeners in a list of its own, which only its removeListener
 * changes (EventEmitter's `off` leaves them there, called at every message).
 */
export function timedSale(suffix: string, timeoutMs = 30_000): Promise<SaleResult> {
  const out = helper.getNode(`out${suffix}`);
  return new Promise((resolve, reject) => {
    const errors = helper.getNode('errors');
    type Msg = { wonder?: { result?: string; code?: string }; error?: { message?: string; source?: { id?: string } } };
    const finish = (msg: Msg) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      out.removeListener('input', finish);
      errors.removeListener('input', onError);
      resolve({ ms, result: msg.error !== undefined ? `error ${msg.wonder?.code ?? ''} ${msg.error.message ?? ''}` : String(msg.wonder?.result) });
    };
    const onError = (msg: Msg) => {
      if (msg.error?.source?.id === `sale${suffix}`) finish(msg);
    };
    const timer = setTimeout(() => {
      out.removeListener('input', finish);
      errors.removeListener('input', onError);
      reject(new Error(`no sale result at out${suffix} within ${timeoutMs} ms`));
    }, timeoutMs);
    const t0 = performance.now();
    out.on('input', finish);
    errors.on('input', onError);
    helper.getNode(`in${suffix}`).receive({});
  });
}
