import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { httpSink } from './helpers/http-sink';
import { committed } from './helpers/ledger-files';
import { until } from './helpers/wait';

/**
 * The examples that act on an approved payment (vending, kiosk, receipt printer) act once per
 * payment across restarts, with Node-RED's default (memory) context: each runs in a real Node-RED
 * process that is killed (SIGKILL) after the act, or while the act runs, and started again on the
 * same user directory; the same order is then delivered again, and the package answers it with
 * its recorded outcome (`duplicate: true`). The examples' debug nodes post what reaches them to a
 * sink in the test, so acts are counted across both processes.
 */
const root = path.resolve(__dirname, '..', '..');
type FlowNode = Record<string, any> & { id: string; type: string };

function example(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as FlowNode[];
}

/** The example with each debug node posting `{at, ref, state}` to the sink, and an inject delivering `order` to the sale node. */
function withProbes(flow: FlowNode[], sinkUrl: string, order: { sale: string; payload: object; vending?: object }): FlowNode[] {
  const z = flow.find((n) => n.type === 'tab')!.id;
  const probed = flow.map((n) =>
    n.type !== 'debug'
      ? n
      : {
          id: n.id,
          type: 'function',
          z: n.z,
          name: `probe ${n.name}`,
          func: `const w = msg.wonder || {};
const ref = (msg.vending && msg.vending.sale && msg.vending.sale.referenceID) || (msg.dispense && msg.dispense.referenceID) || w.referenceID;
return { payload: { at: ${JSON.stringify(n.id)}, ref, state: msg.vending ? msg.vending.state : (typeof msg.payload === 'string' ? msg.payload : undefined), duplicate: w.duplicate === true } };`,
          outputs: 1,
          x: n.x,
          y: n.y,
          wires: [['test_post']],
        },
  );
  const props: Array<Record<string, string>> = [{ p: 'payload' }];
  if (order.vending) props.push({ p: 'vending', v: JSON.stringify(order.vending), vt: 'json' });
  return [
    ...probed,
    { id: 'test_post', type: 'http request', z, method: 'POST', ret: 'txt', url: sinkUrl, x: 100, y: 900, wires: [[]] },
    { id: 'test_order', type: 'inject', z, name: 'the order (delivered again after a restart)', props, payload: JSON.stringify(order.payload), payloadType: 'json', x: 100, y: 960, wires: [[order.sale]] },
  ];
}

async function inject(red: NodeRedProcess, id: string): Promise<void> {
  assert.equal((await fetch(`${red.url}/inject/${id}`, { method: 'POST' })).status, 200);
}

/** One user directory and one record folder for both runs of a test. */
function dirs(): { userDir: string; onceDir: string } {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-once-'));
  return { userDir, onceDir: path.join(userDir, 'records') };
}

describe('examples act once per payment across restarts (real Node-RED, SIGKILL, the order delivered again)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  afterEach(async () => {
    await red?.stop('SIGKILL');
    red = undefined;
  });

  it('vending: killed after the product dropped, the same order again after the restart is answered from the ledger and dispenses nothing', async () => {
    const sink = await httpSink();
    const { userDir, onceDir } = dirs();
    const ref = 'VEND-A-ORDER-1';
    const flows = withProbes(example('vending-dispense-void.json'), sink.url, {
      sale: 'wonder_vend_sale',
      payload: { amount: '12.00', currency: 'HKD', referenceID: ref },
      vending: { slot: 'A', product: 'Soda', state: 'paying' },
    });
    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    await sink.next((b) => b.at === 'wonder_vend_log_sold' && b.ref === ref, 'the soda dispensed');
    await red.stop('SIGKILL');

    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    const second = await sink.next((b) => b.duplicate === true && (b.at === 'wonder_vend_log_sold' || b.at === 'wonder_vend_log_already'), 'the repeated order acted on or refused');
    assert.equal(second.at, 'wonder_vend_log_already', `dispensed again after the restart: ${JSON.stringify(sink.bodies)}`);
    assert.equal(sink.bodies.filter((b) => b.at === 'wonder_vend_log_sold').length, 1, JSON.stringify(sink.bodies));
    // One sale in the ledger, never sent again; the record has the step and its result.
    const ledger = [...committed(path.join(userDir, 'wonder-ecr', 'ledger.db')).values()];
    assert.deepEqual(ledger.map((e) => [e.action, e.referenceID, e.state]), [['Sale', ref, 'Success']]);
    const record = fs.readFileSync(path.join(onceDir, 'vending.log'), 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1).join(' '));
    assert.deepEqual(record, [`dispensing ${ref}`, `dispensed ${ref}`]);
    await sink.close();
  });

  it('vending: killed while the motor ran, the outcome delivered again is not guessed: staff check the slot, nothing dispensed', async () => {
    const sink = await httpSink();
    const { userDir, onceDir } = dirs();
    const ref = 'VEND-A-ORDER-2';
    const order = { sale: 'wonder_vend_sale', payload: { amount: '12.00', currency: 'HKD', referenceID: ref }, vending: { slot: 'A', product: 'Soda', state: 'paying' } };
    const flows = withProbes(example('vending-dispense-void.json'), sink.url, order);
    // The first run's motor starts turning and never reports: Node-RED is killed meanwhile.
    const stuck = flows.map((n) => (n.id === 'wonder_vend_dispense' ? { ...n, func: "node.warn('motor running ' + msg.wonder.referenceID);\nreturn null;" } : n));
    red = await startNodeRed({ flows: stuck, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    await until('the motor running', () => red!.output().includes(`motor running ${ref}`), 20_000);
    await red.stop('SIGKILL');

    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    const second = await sink.next((b) => b.ref === ref && (b.at === 'wonder_vend_log_sold' || b.at === 'wonder_vend_log_staff'), 'the repeated order acted on or sent to staff');
    assert.equal(second.at, 'wonder_vend_log_staff', `dispensed again after the restart: ${JSON.stringify(sink.bodies)}`);
    assert.match(second.state, /dispense interrupted by a restart \(slot A\), check VEND-A-ORDER-2: call staff/);
    assert.equal(sink.bodies.filter((b) => b.at === 'wonder_vend_log_sold').length, 0, JSON.stringify(sink.bodies));
    await sink.close();
  });

  it('kiosk: killed after dispensing, the same order again after the restart dispenses nothing', async () => {
    const sink = await httpSink();
    const { userDir, onceDir } = dirs();
    const ref = 'KIOSK-ORDER-1';
    const flows = withProbes(example('kiosk-sale.json'), sink.url, { sale: 'wonder_kiosk_sale', payload: { amount: '12.50', currency: 'HKD', referenceID: ref } });
    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    await sink.next((b) => b.at === 'wonder_kiosk_dispense' && b.ref === ref, 'the coffee dispensed');
    await red.stop('SIGKILL');

    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    const refused = `already dispensed for ${ref} (before a restart): not again`;
    await until('the repeated order dispensed or refused', () => red!.output().includes(refused) || sink.bodies.filter((b) => b.at === 'wonder_kiosk_dispense').length > 1, 20_000);
    assert.equal(sink.bodies.filter((b) => b.at === 'wonder_kiosk_dispense').length, 1, `dispensed again after the restart: ${JSON.stringify(sink.bodies)}`);
    assert.ok(red.output().includes(refused), red.output());
    await sink.close();
  });

  it('receipt printer: killed after printing, the same order again after the restart prints nothing', async () => {
    const sink = await httpSink();
    const { userDir, onceDir } = dirs();
    const ref = 'PRINT-ORDER-1';
    let jobs = 0;
    const printer = net.createServer((socket) => {
      socket.on('data', () => undefined);
      socket.on('end', () => {
        jobs++;
        socket.end();
      });
    });
    await new Promise<void>((resolve) => printer.listen(0, '127.0.0.1', resolve));
    const port = String((printer.address() as net.AddressInfo).port);
    const flows = withProbes(example('receipt-printer.json'), sink.url, { sale: 'wonder_printer_sale', payload: { amount: '10.20', currency: 'HKD', referenceID: ref } }).map((n) =>
      n.type === 'tcp request' ? { ...n, server: '127.0.0.1', port } : n,
    );
    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    await until('the receipt printed', () => jobs === 1, 20_000);
    await red.stop('SIGKILL');

    red = await startNodeRed({ flows, userDir, env: { WONDER_ONCE_DIR: onceDir } });
    await inject(red, 'test_order');
    const refused = `receipt Sale/${ref} already printed (before a restart): not again`;
    await until('the repeated order printed or refused', () => red!.output().includes(refused) || jobs > 1, 20_000);
    assert.equal(jobs, 1, 'printed again after the restart');
    await new Promise<void>((resolve) => printer.close(() => resolve()));
    await sink.close();
  });
});
