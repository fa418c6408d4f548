import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SIMULATOR_AMOUNTS } from '../lib/simulator';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { accessToken, adminAuthSettings } from './helpers/admin-auth';

const TERMINAL = 'T';

/**
 * A flow that records every message its sale node sends (its own answers and
 * the settlements it is told later, `msg.wonder.recovered`), in the runtime's
 * global context, readable at GET /delivered. POST /sale and POST /status
 * answer with the sale's or the lookup's msg.wonder (or its error's).
 */
function flows(): unknown[] {
  const respond = (id: string, x: number, y: number, wires: string[]) => ({ id, type: 'function', z: 'tab', x, y, name: id, func: 'if (!msg.res) return null;\nmsg.payload = msg.wonder;\nreturn msg;', outputs: 1, wires: [wires] });
  return [
    { id: 'tab', type: 'tab', label: 'settlements' },
    // Asks about an unknown outcome for 1 s only (then E_PENDING, left open); the simulator approves 900.02 after 3 s.
    { id: TERMINAL, type: 'wonder-terminal', name: 'simulated', transport: 'simulator', timeout: 120, resolveTimeout: 1, pollInterval: 0.2, healthCheck: '', busyPolicy: 'queue' },
    { id: 'saleIn', type: 'http in', z: 'tab', x: 100, y: 100, url: '/sale', method: 'post', wires: [['sale']] },
    { id: 'sale', type: 'wonder-sale', z: 'tab', x: 300, y: 100, name: 'sale', terminal: TERMINAL, amount: '', amountType: 'str', currency: '', currencyType: 'str', wires: [['record']] },
    {
      id: 'record',
      type: 'function',
      z: 'tab',
      x: 500,
      y: 100,
      name: 'record',
      func: "const list = global.get('delivered') || [];\nlist.push({ referenceID: msg.wonder.referenceID, result: msg.wonder.result, recovered: msg.wonder.recovered === true });\nglobal.set('delivered', list);\nreturn msg;",
      outputs: 1,
      wires: [['saleAnswer']],
    },
    respond('saleAnswer', 700, 100, ['response']),
    { id: 'saleCatch', type: 'catch', z: 'tab', x: 100, y: 160, scope: ['sale', 'status'], uncaught: false, wires: [['errorAnswer']] },
    respond('errorAnswer', 300, 160, ['response']),
    { id: 'statusIn', type: 'http in', z: 'tab', x: 100, y: 220, url: '/status', method: 'post', wires: [['status']] },
    { id: 'status', type: 'wonder-status', z: 'tab', x: 300, y: 220, name: 'status', terminal: TERMINAL, wires: [['statusAnswer']] },
    respond('statusAnswer', 500, 220, ['response']),
    { id: 'deliveredIn', type: 'http in', z: 'tab', x: 100, y: 280, url: '/delivered', method: 'get', wires: [['deliveredList']] },
    { id: 'deliveredList', type: 'function', z: 'tab', x: 300, y: 280, name: 'list', func: "msg.payload = global.get('delivered') || [];\nreturn msg;", outputs: 1, wires: [['response']] },
    { id: 'response', type: 'http response', z: 'tab', x: 900, y: 160, statusCode: '', headers: {}, wires: [] },
  ];
}

/** Polls `check` until it gives a value; fails naming `what` after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Delivered {
  referenceID: string;
  result: string;
  recovered: boolean;
}

describe('every settlement reaches the flow once, whoever learnt it (real Node-RED, simulator)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  let dir: string;
  let settings: string;
  let token = '';
  const password = crypto.randomBytes(12).toString('hex');

  const start = async (userDir?: string) => {
    red = await startNodeRed({ flows: flows(), settings, ...(userDir !== undefined ? { userDir } : {}) });
    token = await accessToken(red.url, 'operator', password);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-settlement-'));
    settings = adminAuthSettings(dir, password);
    await start();
  });

  after(async () => {
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = async (route: string, body: unknown, auth = false) => {
    const res = await fetch(`${red!.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const delivered = async (): Promise<Delivered[]> => (await (await fetch(`${red!.url}/delivered`)).json()) as Delivered[];
  const of = (list: Delivered[], referenceID: string) => list.filter((d) => d.referenceID === referenceID);
  /** A sale whose outcome stays unknown past its 1 s of lookups: E_PENDING, left open in the ledger. */
  const pendingSale = async (referenceID: string) => {
    const answer = await post('/sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID });
    assert.equal(answer.json.code, 'E_PENDING', JSON.stringify(answer.json));
    assert.deepEqual(of(await delivered(), referenceID), [], 'an unknown outcome is not a settlement');
  };
  const checkNow = (body: unknown) => post(`/wonder-ecr/terminals/${TERMINAL}/check`, body, true);

  it("an operator's Check now that settles an unknown payment tells the flow, once (recovered: true); not again on another check, nor after a restart", async () => {
    await pendingSale('CHECK-1');
    const settled = await until('Check now to settle it', async () => {
      const res = await checkNow({ referenceID: 'CHECK-1' });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return res.json.checked[0].settled === true ? res.json.checked[0] : undefined;
    });
    assert.equal(settled.state, 'Success');
    // Told at once, through the sale node, as recovered: the flow may dispense now.
    assert.deepEqual(of(await delivered(), 'CHECK-1'), [{ referenceID: 'CHECK-1', result: 'Success', recovered: true }]);
    // Checked again, by reference and the whole terminal: answered from the ledger, nothing delivered again.
    assert.equal((await checkNow({ referenceID: 'CHECK-1' })).json.checked[0].settled, false);
    assert.deepEqual((await checkNow({})).json.checked, []);
    assert.equal(of(await delivered(), 'CHECK-1').length, 1);

    // A restart on the same user directory: its recovery runs before the next payment, and never delivers it again.
    const userDir = red!.userDir;
    await red!.stop();
    await start(userDir);
    const next = await post('/sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER-1' });
    assert.equal(next.json.result, 'Success', JSON.stringify(next.json));
    await checkNow({});
    const after = await delivered();
    assert.deepEqual(of(after, 'CHECK-1'), []);
    assert.deepEqual(of(after, 'AFTER-1'), [{ referenceID: 'AFTER-1', result: 'Success', recovered: false }]);
  });

  it("a status node's lookup that settles an unknown payment tells the sale's flow too, once", async () => {
    await pendingSale('STATUS-1');
    const lookup = await until('the status node to learn it', async () => {
      const res = await post('/status', { targetReferenceID: 'STATUS-1' });
      return res.json.result === 'Success' ? res.json : undefined;
    });
    assert.deepEqual(lookup.settledPayment, { action: 'Sale', referenceID: 'STATUS-1', result: 'Success' });
    assert.deepEqual(of(await delivered(), 'STATUS-1'), [{ referenceID: 'STATUS-1', result: 'Success', recovered: true }]);
    // Asked again: the lookup answers, the sale is not delivered again; recovery finds nothing open.
    assert.equal((await post('/status', { targetReferenceID: 'STATUS-1' })).json.result, 'Success');
    assert.deepEqual((await checkNow({})).json.checked, []);
    assert.equal(of(await delivered(), 'STATUS-1').length, 1);
  });
});
