import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { editNode, launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { startPtyPair, type PtyPair } from './helpers/pty';

const BY_ID_NAME = 'usb-Wonder_ECR_WP-ID-1-if00-port0';

describe('the terminal dialog suggests the stable /dev/serial/by-id path (Debian chromium)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let pty: PtyPair;
  let byIdDir: string;
  let device: string;
  let link: string;

  before(async () => {
    pty = await startPtyPair();
    device = fs.realpathSync(pty.a);
    byIdDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-by-id-'));
    link = path.join(byIdDir, BY_ID_NAME);
    fs.symlinkSync(device, link);
    const flows = [
      { id: 'tab', type: 'tab', label: 'kiosk' },
      { id: 'tty', type: 'wonder-terminal', name: 'kiosk', transport: 'serial', serialPort: device, baudRate: 115200, timeout: '120', busyPolicy: 'queue' },
      { id: 'sale', type: 'wonder-sale', z: 'tab', name: 'sale', terminal: 'tty', x: 200, y: 100, wires: [[]] },
    ];
    red = await startNodeRed({ flows, env: { WONDER_SERIAL_BY_ID_DIR: byIdDir } });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    await pty?.stop();
    fs.rmSync(byIdDir, { recursive: true, force: true });
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  async function terminalDialog(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1500, height: 900 } });
    const page = await context.newPage();
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="wonder-sale"]', { timeout: 60_000 });
    await editNode(page, 'sale');
    await page.waitForSelector('#node-input-terminal', { state: 'attached' });
    await page.click('#node-input-btn-terminal-edit');
    await page.waitForSelector('#node-config-input-serialPort', { state: 'visible' });
    return page;
  }

  it('a port given as its device path gets a hint with the by-id link, and one click uses it (en-US)', async () => {
    const page = await terminalDialog('en-US');
    assert.equal(await page.inputValue('#node-config-input-serialPort'), device);
    const tip = page.locator('#wonder-serial-stable');
    await tip.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await tip.innerText();
    assert.ok(text.includes(link), text);
    assert.match(text, /keeps its name after a reboot/);
    await page.click('#wonder-serial-use-stable');
    assert.equal(await page.inputValue('#node-config-input-serialPort'), link);
    // The stable path itself, or a port no link points at: no hint.
    await page.waitForFunction(() => (globalThis as any).$('#wonder-serial-stable').is(':hidden'));
    await page.fill('#node-config-input-serialPort', '/dev/ttyS-not-there');
    await page.dispatchEvent('#node-config-input-serialPort', 'change');
    // Answered (the list comes back) and still nothing to suggest.
    await page.waitForResponse((r) => r.url().includes('stableFor=%2Fdev%2FttyS-not-there'));
    assert.equal(await tip.isVisible(), false);
    await page.click('#node-config-dialog-cancel');
    await page.context().close();
  });

  it('the hint is translated (zh-TW, zh-CN)', async () => {
    for (const [locale, words, button] of [
      ['zh-TW', '名稱不變', '改用此路徑'],
      ['zh-CN', '名称不变', '改用此路径'],
    ] as const) {
      const page = await terminalDialog(locale);
      const tip = page.locator('#wonder-serial-stable');
      await tip.waitFor({ state: 'visible', timeout: 10_000 });
      const text = await tip.innerText();
      assert.ok(text.includes(link) && text.includes(words), `${locale}: ${text}`);
      assert.equal((await page.locator('#wonder-serial-use-stable').innerText()).trim(), button);
      await page.click('#node-config-dialog-cancel');
      await page.context().close();
    }
  });
});
