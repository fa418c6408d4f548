import helper from 'node-red-node-test-helper';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { coreNode, nodeRedMain } from './node-red-install';
import { nextEvent } from './wait';
import { tempDir } from './temp';

/** A user directory of the tests' own: journals never touch ~/.node-red. */
export const userDir = tempDir('wonder-helper-');
helper.init(nodeRedMain(), { userDir });
/** The examples' once-only records (docs/kiosk.md) go in the helper's user directory, never the home directory. */
process.env.WONDER_ONCE_DIR = path.join(userDir, 'wonder-once');

/** Forgets every journal (each test starts with empty books). */
export function clearJournals(): void {
  fs.rmSync(path.join(userDir, 'wonder-ecr'), { recursive: true, force: true });
  fs.rmSync(path.join(userDir, 'wonder-once'), { recursive: true, force: true });
}

/** The compiled node modules, and core nodes tests wire them to. */
const dist = path.join(__dirname, '..', '..', 'nodes');
export const nodes = {
  terminal: require(path.join(dist, 'wonder-terminal.js')),
  pair: require(path.join(dist, 'wonder-pair.js')),
  deviceInfo: require(path.join(dist, 'wonder-device-info.js')),
  sale: require(path.join(dist, 'wonder-sale.js')),
  refund: require(path.join(dist, 'wonder-refund.js')),
  void: require(path.join(dist, 'wonder-void.js')),
  abort: require(path.join(dist, 'wonder-abort.js')),
  status: require(path.join(dist, 'wonder-status.js')),
  catch: coreNode('common/25-catch.js'),
};
export const allNodes = Object.values(nodes);

export { helper };

export type Msg = Record<string, any>;

/** Resolves with the next message a helper node receives. */
export async function nextMessage(id: string, timeoutMs = 10_000): Promise<Msg> {
  const [msg] = await nextEvent<[Msg]>(helper.getNode(id), 'input', { within: timeoutMs, what: `a message at ${id}` });
  return msg;
}

/** Collects `count` messages arriving at a helper node. */
export function messages(id: string, count: number, timeoutMs = 20_000): Promise<Msg[]> {
  const node = helper.getNode(id);
  const out: Msg[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${count} messages at ${id}`)), timeoutMs);
    node.on('input', (msg: Msg) => {
      out.push(msg);
      if (out.length === count) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}

/**
 * The hooks every suite of node tests in the real runtime needs: the helper's
 * server started once, each test's flows unloaded and journals cleared after it.
 */
export function useRuntime(): void {
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    clearJournals();
  });
}

/** Every status a node has shown while loaded (from the helper's spy on Node.prototype.status), oldest first. */
export function statuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const spy = (helper as unknown as { _NodePrototype: { status: { getCalls(): Array<{ thisValue?: { id?: string }; args: unknown[] }> } } })._NodePrototype.status;
  return spy
    .getCalls()
    .filter((c) => c.thisValue?.id === id)
    .map((c) => c.args[0] as { fill?: string; shape?: string; text?: string });
}

/** The text of the last status a node showed. */
export const lastText = (id: string): string | undefined => statuses(id).at(-1)?.text;
