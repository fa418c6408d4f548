import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { startPtyPair, type PtyPair } from './helpers/pty';

const root = path.resolve(__dirname, '..', '..');
const MODULE = 'node-red-contrib-wonder-ecr';
const allExamples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort();
/**
 * The dashboard (kiosk screen and store manager page) needs @flowfuse/node-red-dashboard installed
 * beside Node-RED (it is not a dependency of this package): test/kiosk-dashboard.test.ts and
 * test/store-manager-dashboard.test.ts start Node-RED with it, deploy that example and use its pages
 * in a browser. Here every other example is imported.
 */
const NEEDS_DASHBOARD = ['kiosk-dashboard.json'];
const examples = allExamples.filter((f) => !NEEDS_DASHBOARD.includes(f));
/** A stable name as udev makes it for an FTDI adapter. */
const BY_ID_NAME = 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0';
/** The example `npm start` runs. */
const DEMO = 'http-checkout.json';

/** What the page's global RED offers the tests (the parts used here). */
type EditorRED = {
  _: (key: string, opts?: unknown) => string;
  clipboard: { import(): void };
  nodes: {
    eachNode(cb: (n: EditorNode) => void): void;
    eachConfig(cb: (n: EditorNode) => void): void;
    eachWorkspace(cb: (w: { id: string; label: string }) => void): void;
    node(id: string): EditorNode | null;
    getType(type: string): { label: (this: unknown) => string; paletteLabel?: () => string } | undefined;
    dirty(): boolean;
  };
  workspaces: { show(id: string): void; active(): string };
  editor: { edit(n: unknown): void };
};
type EditorNode = { id: string; type: string; z?: string; x: number; y: number; w: number; h: number; valid?: boolean; validationErrors?: string[]; name?: string };
declare global {
  /** The editor's own RED, inside page.evaluate. */
  // eslint-disable-next-line no-var
  var RED: EditorRED;
}

/** The id of the tab with this label (waiting for the editor to have loaded the flows: the palette can come first). */
async function tabId(page: Page, label: string): Promise<string> {
  await page
    .waitForFunction(
      (l) => {
        let found = false;
        RED.nodes.eachWorkspace((w) => {
          if (w.label === l) found = true;
        });
        return found;
      },
      label,
      { timeout: 20_000, polling: 100 },
    )
    .catch(() => undefined); // the check below names the missing tab
  return page.evaluate((l) => {
    let id = '';
    RED.nodes.eachWorkspace((w) => {
      if (w.label === l) id = w.id;
    });
    if (id === '') throw new Error(`no tab "${l}"`);
    return id;
  }, label);
}

/** The id of the node named so on the tab with this label ('' for a node of the tab's own type with no name). */
async function nodeId(page: Page, tabLabel: string, name: string): Promise<string> {
  const z = await tabId(page, tabLabel);
  return page.evaluate(
    ([tab, n]) => {
      const ids: string[] = [];
      RED.nodes.eachNode((node) => {
        if (node.z === tab && (node.name ?? '') === n && (n !== '' || node.type === 'easycard-retry')) ids.push(node.id);
      });
      if (ids.length !== 1) throw new Error(`${ids.length} nodes named "${n}" on ${tab}`);
      return ids[0]!;
    },
    [z, name] as const,
  );
}

/** Waits until the node's status label (as drawn) matches, and returns it. */
async function statusText(page: Page, id: string, match: RegExp): Promise<string> {
  await page.waitForFunction(
    ([i, source]) => new RegExp(source!).test(document.getElementById(i!)?.querySelector('.red-ui-flow-node-status-label')?.textContent ?? ''),
    [id, match.source] as const,
    { timeout: 20_000, polling: 250 },
  );
  return page.evaluate((i) => document.getElementById(i)?.querySelector('.red-ui-flow-node-status-label')?.textContent ?? '', id);
}


describe('the examples, translations and serial port list in a real browser (Debian chromium)', function () {
  this.timeout(180_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let pty: PtyPair;
  let byIdDir: string;

  async function openEditor(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1500, height: 900 } });
    const page = await context.newPage();
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="wonder-sale"]', { timeout: 60_000 });
    return page;
  }

  before(async () => {
    pty = await startPtyPair();
    byIdDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-by-id-'));
    fs.symlinkSync(pty.a, path.join(byIdDir, BY_ID_NAME));
    // As `npm start` does: the HTTP checkout example is the flow.
    const demo = JSON.parse(fs.readFileSync(path.join(root, 'examples', DEMO), 'utf8')) as unknown[];
    red = await startNodeRed({ flows: demo, env: { WONDER_SERIAL_BY_ID_DIR: byIdDir } });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    await pty?.stop();
    fs.rmSync(byIdDir, { recursive: true, force: true });
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  it('ships an example for every node of the package', () => {
    const types = new Set(allExamples.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ type: string }>).map((n) => n.type)));
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(types.has(type), `no example uses ${type}`);
  });

  it('every example on the simulator says so: its terminal sets "transport": "simulator" itself (a new terminal has none)', () => {
    const terminals = allExamples.flatMap((f) =>
      (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ type: string; transport?: string }>).filter((n) => n.type === 'wonder-terminal').map((n) => [f, n.transport]),
    );
    assert.ok(terminals.length >= 8, `${terminals.length} example terminals`);
    assert.deepEqual(terminals.filter(([, transport]) => transport !== 'simulator'), []);
  });

    it('the demo opens clean; every other example imports with nothing asked, every node valid, one simulated terminal per example, nothing overlapping, and deploys without a warning', async () => {
    const page = await openEditor('en-US');
    const invalidNodes = () =>
      page.evaluate(() => {
        const invalid: string[] = [];
        const check = (n: EditorNode) => {
          if (n.valid === false) invalid.push(`${n.type} ${n.id}: ${(n.validationErrors ?? []).join(', ')}`);
        };
        RED.nodes.eachNode(check);
        RED.nodes.eachConfig(check);
        return invalid;
      });
    assert.deepEqual(await invalidNodes(), [], 'the demo flow as `npm start` opens it');
    for (const file of examples.filter((f) => f !== DEMO)) {
      const name = file.replace(/\.json$/, '');
      const text = await (await fetch(`${red.url}/library/examples/flows/${MODULE}/${name}`)).text();
      // The editor's Import dialog, as a person uses it (the Examples tab fills in the same text).
      await page.evaluate(() => RED.clipboard.import());
      await page.fill('#red-ui-clipboard-dialog-import-text', text);
      await page.press('#red-ui-clipboard-dialog-import-text', 'End'); // the dialog checks the text on keyup
      await page.click('#red-ui-clipboard-dialog-ok');
      await page.waitForSelector('#red-ui-clipboard-dialog-import-text', { state: 'hidden' });
      // Each example has its own simulated terminal: Node-RED finds nothing already there and asks nothing.
      const importCopy = await page.evaluate(() => RED._('clipboard.import.importCopy'));
      assert.equal(await page.locator('.red-ui-notification button', { hasText: importCopy }).count(), 0, `importing ${file} asked about nodes already there`);
    }

    const state = await page.evaluate(() => {
      const invalid: string[] = [];
      const terminals: string[] = [];
      const check = (n: EditorNode) => {
        if (n.valid === false) invalid.push(`${n.type} ${n.id}: ${(n.validationErrors ?? []).join(', ')}`);
      };
      RED.nodes.eachNode(check);
      RED.nodes.eachConfig((n) => {
        check(n);
        if (n.type === 'wonder-terminal') terminals.push(n.id);
      });
      return { invalid, terminals };
    });
    assert.deepEqual(state.invalid, [], 'invalid nodes after import');
    // One simulated terminal per example (the demo's and each imported one's), as the files have them.
    const expectedTerminals = examples.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ id: string; type: string }>).filter((n) => n.type === 'wonder-terminal').map((n) => n.id));
    assert.deepEqual(state.terminals.sort(), expectedTerminals.sort(), 'one simulated terminal per example');

    // Nothing overlaps: each tab drawn, then the nodes' boxes compared.
    // Tabs are found by their label.
    const labels = examples.map((f) => (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ type: string; label?: string }>).find((n) => n.type === 'tab')!.label!);
    for (const tabLabel of labels) {
      const tab = await tabId(page, tabLabel);
      const boxes = await page.evaluate(async (z) => {
        RED.workspaces.show(z);
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        const out: Array<{ id: string; name: string; x: number; y: number; w: number; h: number }> = [];
        RED.nodes.eachNode((n) => {
          if (n.z === z) out.push({ id: n.id, name: `${n.type} "${n.name ?? ''}"`, x: n.x, y: n.y, w: n.w, h: n.h });
        });
        return out;
      }, tab);
      assert.ok(boxes.length > 3, `${tab} drawn`);
      for (const b of boxes) assert.ok(b.w > 0 && b.h > 0, `${b.id} has a size`);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          const apart = Math.abs(a.x - b.x) * 2 >= a.w + b.w + 10 || Math.abs(a.y - b.y) * 2 >= a.h + b.h + 10;
          assert.ok(apart, `${JSON.stringify(a)} and ${JSON.stringify(b)} overlap on ${tabLabel}`);
        }
      }
    }

    // Deploy: no "not properly configured" (nor any other) warning, the deploy goes through.
    await page.click('#red-ui-header-button-deploy');
    await page.waitForFunction(
      () => !RED.nodes.dirty() || document.querySelector('.red-ui-deploy-dialog-confirm-list') !== null,
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator('.red-ui-deploy-dialog-confirm-list').count(), 0, 'a deploy warning was shown');
    assert.equal(await page.evaluate(() => RED.nodes.dirty()), false);

    // Debug nodes show text, never "undefined": press the kiosk's coffee and decline buttons.
    await page.evaluate(async (z) => RED.workspaces.show(z), await tabId(page, 'Kiosk sale'));
    for (const inject of ['coffee 12.50 HKD', 'decline 900.01']) {
      const res = await fetch(`${red.url}/inject/${await nodeId(page, 'Kiosk sale', inject)}`, { method: 'POST' });
      assert.equal(res.status, 200);
    }
    const dispense = await nodeId(page, 'Kiosk sale', 'dispense the product');
    const declined = await nodeId(page, 'Kiosk sale', 'show: payment declined');
    await statusText(page, dispense, /^sale$/);
    await statusText(page, declined, /^Failed$/);
    // The sale node shows a translated status, not a key.
    const sale = await statusText(page, await nodeId(page, 'Kiosk sale', 'sale'), /./);
    assert.ok(!sale.includes(':') && !/undefined/.test(sale), `sale status "${sale}"`);
    await page.context().close();
  });

  it('in zh-TW the palette category, the terminal label, statuses, the EasyCard warning and its reason are translated', async () => {
    const page = await openEditor('zh-TW');
    assert.equal((await page.innerText('#red-ui-palette-header-payments span')).trim(), '付款');
    const labels = await page.evaluate(() => {
      const def = RED.nodes.getType('wonder-terminal')!;
      return { simulator: def.label.call({ transport: 'simulator' }), serial: def.label.call({ transport: 'serial', serialPort: '/dev/ttyUSB0' }), palette: def.paletteLabel!() };
    });
    assert.deepEqual(labels, { simulator: '模擬 Wonder 終端機', serial: 'Wonder /dev/ttyUSB0', palette: 'Wonder 終端機' });

    const statusOf = async (tab: string, name: string, text: string) => {
      await page.evaluate(async (z) => RED.workspaces.show(z), await tabId(page, tab));
      assert.equal(await statusText(page, await nodeId(page, tab, name), new RegExp(`^${text}$`)), text);
    };
    // The kiosk's last sale (900.01) was declined; the simulated terminal has answered: simulated (where a real one is ready).
    // The EasyCard account has no credentials.
    await statusOf('Kiosk sale', 'sale', '失敗');
    await statusOf('Terminal tools', 'device info', '模擬');
    await statusOf('EasyCard retry', '', '請輸入憑證');

    // Opening the account shows why it is not usable, in the editor's language.
    await page.evaluate((id) => RED.editor.edit(RED.nodes.node(id)), await nodeId(page, 'EasyCard retry', ''));
    await page.waitForSelector('#node-input-account', { state: 'attached' });
    await page.click('#node-input-btn-account-edit');
    await page.waitForSelector('#node-config-input-mchId', { state: 'visible' });
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-mchId', { state: 'detached' });
    const errors = await page.evaluate(() => {
      let found: string[] = [];
      RED.nodes.eachConfig((n) => {
        if (n.type === 'easycard-account') found = n.validationErrors ?? [];
      });
      return found;
    });
    assert.ok(errors.includes('缺少憑證：交易密碼、RSA 公鑰與 AES IV 皆為必填'), JSON.stringify(errors));
    await page.context().close();
  });

  it('the serial port search shows a visible list, stable by-id names first with maker and serial number', async () => {
    const page = await openEditor('en-US');
    await page.evaluate((id) => RED.editor.edit(RED.nodes.node(id)), await nodeId(page, 'Terminal tools', 'device info'));
    await page.waitForSelector('#node-input-terminal', { state: 'attached' });
    await page.click('#node-input-btn-terminal-edit');
    await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
    await page.selectOption('#node-config-input-transport', 'serial');
    await page.click('#wonder-serial-lookup');
    const first = page.locator('#wonder-serial-list .wonder-serial-port').first();
    await first.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await first.innerText();
    assert.match(text, new RegExp(`${byIdDir}/${BY_ID_NAME}`));
    assert.match(text, /FTDI FT232R USB UART/);
    assert.match(text, /A50285BI/);
    assert.match(text, /\/dev\/pts\/\d+/);
    await first.click();
    assert.equal(await page.inputValue('#node-config-input-serialPort'), path.join(byIdDir, BY_ID_NAME));
    // Empty fields show their defaults; no empty hint box is drawn.
    assert.equal(await page.getAttribute('#node-config-input-baudRate', 'placeholder'), '115200');
    assert.equal(await page.getAttribute('#node-config-input-healthCheck', 'placeholder'), 'off');
    assert.equal(await page.locator('#wonder-pair-result').isVisible(), false);
    await page.click('#node-config-dialog-cancel');
    await page.context().close();
  });

  it('a terminal saved by an older version (no resolveTimeout, pollInterval or health check) imports valid', async () => {
    const page = await openEditor('en-US');
    const old = [
      { id: 'old_tab', type: 'tab', label: 'Old flow' },
      { id: 'old_terminal', type: 'wonder-terminal', name: 'Old terminal', transport: 'simulator', serialPort: '', baudRate: 115200, host: '', port: 8443, cloudEnv: 'staging', cloudUrl: '', businessId: '', deviceSn: '', clientDeviceSN: '', timeout: '120', busyPolicy: 'queue' },
      { id: 'old_sale', type: 'wonder-sale', z: 'old_tab', name: 'old sale', terminal: 'old_terminal', x: 200, y: 100, wires: [[]] },
    ];
    await page.evaluate(() => RED.clipboard.import());
    await page.fill('#red-ui-clipboard-dialog-import-text', JSON.stringify(old));
    await page.press('#red-ui-clipboard-dialog-import-text', 'End');
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.waitForSelector('#red-ui-clipboard-dialog-import-text', { state: 'hidden' });
    const valid = await page.evaluate(() => [RED.nodes.node('old_terminal')?.valid, RED.nodes.node('old_sale')?.valid, RED.nodes.node('old_terminal')?.validationErrors]);
    assert.deepEqual(valid.slice(0, 2), [true, true], JSON.stringify(valid));
    await page.context().close();
  });
});
