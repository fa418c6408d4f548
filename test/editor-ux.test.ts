import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';

/**
 * What a new user meets in the editor, in Debian chromium on a real Node-RED:
 * importing every example one after another asks nothing; the Pair dialog
 * names the cause of a failed connection, forgets an old result when the
 * connection changes and explains its fields; the EasyCard example asks for
 * its credentials in its status (no red error at deploy); the dialogs' labels
 * fit on one line in en-US, zh-TW and zh-CN; zh palette labels follow the glossary.
 */
const root = path.resolve(__dirname, '..', '..');
const MODULE = 'node-red-contrib-wonder-ecr';
const NS = `${MODULE}/wonder-terminal:`;
const DEMO = 'http-checkout.json';
const exampleFiles = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort();
type FlowNode = Record<string, unknown> & { id: string; type: string; label?: string };
const example = (file: string) => JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as FlowNode[];
type Catalog = Record<string, any>;
const catalog = (lang: string, file: string): Catalog => JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, `${file}.json`), 'utf8')) as Catalog;

type EditorRED = {
  _: (key: string, opts?: unknown) => string;
  clipboard: { import(): void };
  nodes: {
    eachWorkspace(cb: (w: { id: string; label: string }) => void): void;
    eachConfig(cb: (n: { id: string; type: string }) => void): void;
    eachNode(cb: (n: { id: string; type: string; z?: string }) => void): void;
    node(id: string): unknown;
  };
  editor: { edit(n: unknown): void; editConfig(name: string, type: string, id: string): void };
  workspaces: { show(id: string): void };
};
/** The editor's own RED, inside page.evaluate. */
type InPage = { RED: EditorRED };

/** A port on loopback that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the editor as a new user meets it (Debian chromium)', function () {
  this.timeout(240_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let notFound: http.Server;
  let notFoundPort: number;

  before(async () => {
    // A "terminal" that answers every request with 404 (a wrong port or path on a LAN host).
    notFound = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
    await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve));
    notFoundPort = (notFound.address() as net.AddressInfo).port;
    // As `npm start` has it (the checkout example), plus the EasyCard example with its credentials empty, as imported.
    red = await startNodeRed({ flows: [...example(DEMO), ...example('easycard-retry.json')] });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    await new Promise<void>((resolve) => notFound?.close(() => resolve()));
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  async function openEditor(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1500, height: 900 } });
    const page = await context.newPage();
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="wonder-sale"]', { timeout: 60_000 });
    await page.waitForFunction(() => (globalThis as unknown as InPage).RED.nodes.node('wonder_checkout_sale') != null, undefined, { timeout: 20_000 });
    return page;
  }

  async function tabs(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const labels: string[] = [];
      (globalThis as unknown as InPage).RED.nodes.eachWorkspace((w) => labels.push(w.label));
      return labels;
    });
  }

  it('every example imports one after another with nothing asked: one simulated terminal per example', async () => {
    const page = await openEditor('en-US');
    // Node-RED's own words for "nodes already exist" and its "Import copy" button, in this editor.
    const words = await page.evaluate(() => ({ copy: (globalThis as unknown as InPage).RED._('clipboard.import.importCopy'), exists: (globalThis as unknown as InPage).RED._('clipboard.importDuplicate', { count: 1 }).split(' ').slice(0, 3).join(' ') }));
    // Every example the package ships but the two already open (importing a flow over itself is a copy by definition).
    for (const file of exampleFiles.filter((f) => f !== DEMO && f !== 'easycard-retry.json')) {
      const flow = example(file);
      const label = flow.find((n) => n.type === 'tab')!.label!;
      const text = await (await fetch(`${red.url}/library/examples/flows/${MODULE}/${file.replace(/\.json$/, '')}`)).text();
      await page.evaluate(() => (globalThis as unknown as InPage).RED.clipboard.import());
      await page.fill('#red-ui-clipboard-dialog-import-text', text);
      await page.press('#red-ui-clipboard-dialog-import-text', 'End');
      await page.click('#red-ui-clipboard-dialog-ok');
      await page.waitForSelector('#red-ui-clipboard-dialog-import-text', { state: 'hidden' });
      // Imported as it is: its tab is there, and no notification asks about nodes that already exist.
      await page.waitForFunction((l) => {
        let found = false;
        (globalThis as unknown as InPage).RED.nodes.eachWorkspace((w) => (found ||= w.label === l));
        return found;
      }, label, { timeout: 10_000 }).catch(() => undefined);
      assert.equal(await page.locator('.red-ui-notification button', { hasText: words.copy }).count(), 0, `${file}: Node-RED asked (Import copy)`);
      assert.equal(await page.locator('.red-ui-notification', { hasText: words.exists }).count(), 0, `${file}: Node-RED said nodes already exist`);
      assert.ok((await tabs(page)).includes(label), `${file}: its tab "${label}" was not imported`);
    }
    const terminals = await page.evaluate(() => {
      const ids: string[] = [];
      (globalThis as unknown as InPage).RED.nodes.eachConfig((n) => {
        if (n.type === 'wonder-terminal') ids.push(n.id);
      });
      return ids.sort();
    });
    const expected = exampleFiles.flatMap((f) => example(f).filter((n) => n.type === 'wonder-terminal').map((n) => n.id)).sort();
    assert.deepEqual(terminals, expected);
    assert.equal(new Set(terminals).size, exampleFiles.filter((f) => example(f).some((n) => n.type === 'wonder-terminal')).length, 'one terminal per example');
    await page.context().close();
  });

  it('Pair names the cause (refused, HTTP 404), an old result goes when the connection changes, and the fields say what they are', async () => {
    const en = catalog('en-US', 'wonder-terminal');
    const page = await openEditor('en-US');
    try {
      await page.evaluate(() => (globalThis as unknown as InPage).RED.editor.edit((globalThis as unknown as InPage).RED.nodes.node('wonder_checkout_sale')));
      await page.waitForSelector('#node-input-terminal', { state: 'attached' });
      await page.click('#node-input-btn-terminal-edit');
      await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
      const result = page.locator('#wonder-pair-result');
      const pair = async (): Promise<string> => {
        await page.click('#wonder-pair-button');
        await page.waitForFunction(() => {
          const el = document.querySelector('#wonder-pair-result');
          return el !== null && (el.classList.contains('wonder-ok') || el.classList.contains('wonder-error'));
        }, undefined, { timeout: 45_000 });
        return (await result.innerText()).trim();
      };
      const failed = en['wonder-terminal'].editor.pairFailed as string;

      // LAN, a port nobody listens on: refused, as the terminal's status says it later.
      await page.selectOption('#node-config-input-transport', 'lan');
      await page.fill('#node-config-input-host', '127.0.0.1');
      await page.fill('#node-config-input-port', String(await closedPort()));
      await page.fill('#node-config-input-pairingCode', '123456');
      assert.equal(await pair(), `${failed}: ${en.diagnosis['host-refused']}`);
      assert.equal(await page.locator('#wonder-pair-result.wonder-error').count(), 1);

      // The port changes: the old result goes at once.
      await page.fill('#node-config-input-port', String(notFoundPort));
      assert.equal((await result.innerText()).trim(), '');
      assert.equal(await result.isVisible(), false);
      // A host that answers 404: an HTTP error, with its status.
      assert.equal(await pair(), `${failed}: ${en.diagnosis['http-error']} (HTTP 404)`);

      // The transport changes: the result goes.
      await page.selectOption('#node-config-input-transport', 'simulator');
      assert.equal((await result.innerText()).trim(), '');
      assert.equal(await result.isVisible(), false);

      // The fields explain themselves: ECR serial, and for the cloud where the business ID and device SN are found.
      assert.equal((await page.innerText('#wonder-ecr-serial-hint')).trim(), en['wonder-terminal'].editor.clientDeviceSNHint);
      assert.equal(await page.isVisible('#wonder-business-id-hint'), false);
      await page.selectOption('#node-config-input-transport', 'cloud');
      assert.equal((await page.innerText('#wonder-business-id-hint')).trim(), en['wonder-terminal'].editor.businessIdHint);
      assert.equal((await page.innerText('#wonder-device-sn-hint')).trim(), en['wonder-terminal'].editor.deviceSnHint);
      assert.match(await page.innerText('#wonder-business-id-hint'), /pairing page/);
      await page.click('#node-config-dialog-cancel');
    } finally {
      await page.context().close();
    }
  });

  it('the EasyCard example with its credentials empty: its status asks for them, in the editor\'s language; no red error at deploy', async () => {
    const retryId = example('easycard-retry.json').find((n) => n.type === 'easycard-retry')!.id;
    for (const [locale, text] of [['en-US', 'enter credentials'], ['zh-TW', '請輸入憑證'], ['zh-CN', '请输入凭证']] as const) {
      assert.equal(catalog(locale, 'easycard-retry').status.noCredentials, text);
      assert.ok([...text].length < 20);
      const page = await openEditor(locale);
      await page.evaluate(() => {
        let z = '';
        (globalThis as unknown as InPage).RED.nodes.eachWorkspace((w) => {
          if (w.label === 'EasyCard retry') z = w.id;
        });
        (globalThis as unknown as InPage).RED.workspaces.show(z);
      });
      await page.waitForFunction(
        ([id, t]) => document.getElementById(id!)?.querySelector('.red-ui-flow-node-status-label')?.textContent === t,
        [retryId, text] as const,
        { timeout: 20_000, polling: 250 },
      );
      await page.context().close();
    }
    // The runtime's log: the account asked for its credentials; no error line for it.
    assert.match(red.output(), /EasyCard account: enter its credentials/);
    assert.doesNotMatch(red.output(), /\[error\] \[easycard-account/);
  });

  /** The labels of the open dialog's visible rows that take more than one line. */
  async function wrappedLabels(page: Page, scope: string): Promise<string[]> {
    return page.evaluate((sel) => {
      const out: string[] = [];
      for (const label of Array.from(document.querySelectorAll<HTMLElement>(`${sel} .form-row > label`))) {
        if (label.offsetParent === null || label.textContent!.trim() === '') continue;
        // The same label on one line, for comparison.
        const one = label.cloneNode(true) as HTMLElement;
        one.style.whiteSpace = 'nowrap';
        label.parentElement!.appendChild(one);
        const wraps = label.getBoundingClientRect().height > one.getBoundingClientRect().height + 1;
        one.remove();
        if (wraps) out.push(label.textContent!.trim());
      }
      return out;
    }, scope);
  }

  for (const locale of ['en-US', 'zh-TW', 'zh-CN']) {
    it(`${locale}: the terminal, sale and EasyCard account dialogs' labels each fit on one line; the palette follows the glossary`, async () => {
      const page = await openEditor(locale);
      try {
        // The palette: sale, refund, void and abort as the glossary has them.
        for (const type of ['wonder-sale', 'wonder-refund', 'wonder-void', 'wonder-abort']) {
          const label = (await page.locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-label`).innerText()).trim();
          assert.equal(label, catalog(locale, type)[type].paletteLabel, `${locale} ${type}`);
        }
        const wrapped: string[] = [];
        // The sale's own dialog.
        await page.evaluate(() => (globalThis as unknown as InPage).RED.editor.edit((globalThis as unknown as InPage).RED.nodes.node('wonder_checkout_sale')));
        await page.waitForSelector('#node-input-terminal', { state: 'visible' });
        wrapped.push(...(await wrappedLabels(page, '#dialog-form')).map((l) => `sale: ${l}`));
        // The terminal's, for each transport, with its translated name.
        await page.click('#node-input-btn-terminal-edit');
        await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
        const names = catalog(locale, 'wonder-terminal')['wonder-terminal'].transport as Record<string, string>;
        for (const transport of ['serial', 'lan', 'cloud', 'simulator']) {
          await page.selectOption('#node-config-input-transport', transport);
          const shown = (await page.locator(`#node-config-input-transport option[value="${transport}"]`).innerText()).trim();
          assert.equal(shown, names[transport], `${locale} transport ${transport}`);
          if (locale !== 'en-US') assert.doesNotMatch(shown, /^(serial|lan|cloud|simulator)$/i);
          wrapped.push(...(await wrappedLabels(page, '#node-config-dialog-edit-form')).map((l) => `terminal (${transport}): ${l}`));
        }
        await page.click('#node-config-dialog-cancel');
        await page.click('#node-dialog-cancel');
        // The EasyCard account's.
        const account = example('easycard-retry.json').find((n) => n.type === 'easycard-account')!.id;
        await page.evaluate((id) => (globalThis as unknown as InPage).RED.editor.editConfig('', 'easycard-account', id), account);
        await page.waitForSelector('#node-config-input-mchId', { state: 'visible' });
        wrapped.push(...(await wrappedLabels(page, '#node-config-dialog-edit-form')).map((l) => `EasyCard account: ${l}`));
        await page.click('#node-config-dialog-cancel');
        assert.deepEqual([...new Set(wrapped)], [], `${locale}: labels on more than one line`);
      } finally {
        await page.context().close();
      }
    });
  }

  it('the Pair result is shown in the editor\'s language from the catalog (zh-TW): the refused cause', async () => {
    const zh = catalog('zh-TW', 'wonder-terminal');
    const page = await openEditor('zh-TW');
    try {
      assert.equal(await page.evaluate((k) => (globalThis as unknown as InPage).RED._(k), `${NS}diagnosis.host-refused`), zh.diagnosis['host-refused']);
      await page.evaluate(() => (globalThis as unknown as InPage).RED.editor.edit((globalThis as unknown as InPage).RED.nodes.node('wonder_checkout_sale')));
      await page.waitForSelector('#node-input-terminal', { state: 'attached' });
      await page.click('#node-input-btn-terminal-edit');
      await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
      await page.selectOption('#node-config-input-transport', 'lan');
      await page.fill('#node-config-input-host', '127.0.0.1');
      await page.fill('#node-config-input-port', String(await closedPort()));
      await page.fill('#node-config-input-pairingCode', '123456');
      await page.click('#wonder-pair-button');
      await page.waitForFunction(() => document.querySelector('#wonder-pair-result.wonder-error') !== null, undefined, { timeout: 45_000 });
      assert.equal((await page.innerText('#wonder-pair-result')).trim(), `${zh['wonder-terminal'].editor.pairFailed}: ${zh.diagnosis['host-refused']}`);
      await page.click('#node-config-dialog-cancel');
    } finally {
      await page.context().close();
    }
  });
});
