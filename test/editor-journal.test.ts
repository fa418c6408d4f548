import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium, waitForNode } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { until } from './helpers/wait';

const root = path.resolve(__dirname, '..', '..');
const TAB = 'wonder_journal_tab';

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** The example, its debug nodes also printing to the log, plus a sale and a request the node must refuse. */
function flows(): FlowNode[] {
  const example = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'journal-totals.json'), 'utf8')) as FlowNode[];
  const inject = (id: string, payload: unknown, to: string, y: number): FlowNode => ({
    id, type: 'inject', z: TAB, name: id, props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: JSON.stringify(payload), payloadType: 'json', x: 170, y, wires: [[to]],
  });
  const debug = (id: string, complete: string, y: number): FlowNode => ({ id, type: 'debug', z: TAB, name: id, active: true, tosidebar: false, console: true, complete, targetType: 'msg', x: 680, y, wires: [] });
  return [
    ...example.map((n) => (n.type === 'debug' ? { ...n, console: true } : n)),
    inject('t_sale_in', { amount: '12.30', currency: 'HKD', referenceID: 'JT-1' }, 't_sale', 500),
    { id: 't_sale', type: 'wonder-sale', z: TAB, name: 't_sale', terminal: 'wonder_journal_terminal', x: 420, y: 500, wires: [['t_paid']] },
    debug('t_paid', 'wonder.result', 500),
    inject('t_bad_in', { operation: 'sum' }, 'wonder_journal_totals', 560),
    { id: 't_catch', type: 'catch', z: TAB, name: '', scope: ['wonder_journal_totals'], uncaught: false, x: 170, y: 620, wires: [['t_caught']] },
    debug('t_caught', 'error.message', 620),
  ];
}


describe('wonder-journal in a real Node-RED and in the editor (Debian chromium)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let browser: Browser;

  before(async () => {
    red = await startNodeRed({ flows: flows() });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  const press = async (id: string) => assert.equal((await fetch(`${red.url}/inject/${id}`, { method: 'POST' })).status, 200);

  it('totals of a sale made in the flow, exact strings; bad input is a translated error naming the field', async () => {
    await press('t_sale_in');
    await until('the sale', () => /\[debug:t_paid\][^\n]*\n?[^\n]*Success/.test(red.output()), 20_000);
    await press('wonder_journal_totals_in');
    await until('the totals', () => /\[debug:totals rows\]/.test(red.output()) && /amount: '12\.30'/.test(red.output()), 20_000);
    assert.match(red.output(), /currency: 'HKD'/);
    assert.match(red.output(), /net: '12\.30'/);
    await press('t_bad_in');
    await until('the error', () => /\[debug:t_caught\]/.test(red.output()), 20_000);
    assert.match(red.output(), /operation must be "totals", "open" or "list" \(operation: "sum"\)/);
  });

  it('zh-TW: palette label, translated status and help', async () => {
    const context = await browser.newContext({ locale: 'zh-TW', viewport: { width: 1500, height: 900 } });
    const page = await context.newPage();
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    const entry = page.locator('#red-ui-palette-payments .red-ui-palette-node[data-palette-type="wonder-journal"]');
    await entry.waitFor({ timeout: 60_000 });
    assert.equal((await entry.locator('.red-ui-palette-label').innerText()).trim(), '交易日誌');
    // Its status after a request, in the editor's language.
    await press('wonder_journal_open_in');
    await page.waitForFunction(
      (id) => /無未確定交易|有未確定交易/.test(document.getElementById(id)?.querySelector('.red-ui-flow-node-status-label')?.textContent ?? ''),
      'wonder_journal_open',
      { timeout: 20_000, polling: 250 },
    );
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { help: { show(t: string): void } } } }).RED.sidebar.help.show('wonder-journal'));
    await page.waitForFunction(() => /讀取已部署終端機的交易日誌/.test(document.querySelector('.red-ui-sidebar-help-stack')?.textContent ?? ''), undefined, { timeout: 20_000 });
    // The dialog: its labels in zh-TW, the terminal optional (the node is valid with none).
    await waitForNode(page, 'wonder_journal_list');
    const valid = await page.evaluate(() => {
      const R = (globalThis as unknown as { RED: { nodes: { node(id: string): { valid?: boolean } | null } } }).RED;
      return R.nodes.node('wonder_journal_list')?.valid;
    });
    assert.notEqual(valid, false);
    await context.close();
  });
});
