import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { editNode, launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';

const root = path.resolve(__dirname, '..', '..');
const NS = 'node-red-contrib-wonder-ecr/wonder-terminal:';

type Catalog = Record<string, any>;
const catalog = (lang: string): Catalog => JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'wonder-terminal.json'), 'utf8')) as Catalog;
/** A text of the node's locale file with its __placeholders__ as a pattern. */
const pattern = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/__\w+__/g, '.+')}$`);

/**
 * Settings of the test's own: the demo's, plus adminAuth with an administrator
 * and a read-only user (permissions "read"), checked by functions (no hashes).
 */
function authSettings(dir: string, password: string): string {
  const file = path.join(dir, 'settings-auth.js');
  fs.writeFileSync(
    file,
    `const base = require(${JSON.stringify(path.join(root, 'demo', 'settings.js'))});
const users = { admin: '*', reader: 'read' };
const user = (username) => (users[username] ? { username, permissions: users[username] } : null);
module.exports = {
  ...base,
  adminAuth: {
    type: 'credentials',
    users: async (username) => user(username),
    authenticate: async (username, password) => (password === ${JSON.stringify(password)} ? user(username) : null),
  },
};
`,
  );
  return file;
}

describe('Pair in the terminal dialog: permission and translated errors (Debian chromium, adminAuth)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let dir: string;
  const password = crypto.randomBytes(12).toString('hex');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-editor-pair-'));
    const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as unknown[];
    red = await startNodeRed({ flows, settings: authSettings(dir, password) });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh browser context in `locale`, logged in through the editor's own login dialog, with the terminal dialog open. */
  async function terminalDialog(username: string, locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#node-dialog-login-username', { timeout: 45_000 });
    await page.fill('#node-dialog-login-username', username);
    await page.fill('#node-dialog-login-password', password);
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
    await editNode(page, 'wonder_checkout_sale');
    await page.waitForSelector('#node-input-terminal', { state: 'attached' });
    await page.click('#node-input-btn-terminal-edit');
    await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
    return page;
  }

  async function pairAndRead(page: Page): Promise<string> {
    await page.evaluate(() => {
      document.querySelector('#wonder-pair-result')!.textContent = '';
    });
    await page.click('#wonder-pair-button');
    await page.waitForFunction(() => {
      const el = document.querySelector('#wonder-pair-result');
      return el !== null && (el.classList.contains('wonder-ok') || el.classList.contains('wonder-error'));
    }, undefined, { timeout: 20_000 });
    return (await page.innerText('#wonder-pair-result')).trim();
  }

  it('a read-only user pressing Pair is told they lack the permission, not "Pairing failed"', async () => {
    const page = await terminalDialog('reader', 'en-US');
    try {
      await page.fill('#node-config-input-pairingCode', '260880');
      const text = await pairAndRead(page);
      assert.equal(text, catalog('en-US')['wonder-terminal'].editor.pairPermission);
      assert.match(text, /you do not have permission to pair this terminal/);
      assert.ok(await page.locator('#wonder-pair-result.wonder-error').count() === 1);
    } finally {
      await page.context().close();
    }
  });

  it('in Traditional Chinese: a wrong code, a bad field and the rate limit are shown from the node\'s zh-TW texts; the TLS fields show for LAN only', async () => {
    const zh = catalog('zh-TW');
    const page = await terminalDialog('admin', 'zh-TW');
    try {
      // The editor runs in zh-TW: the node's own label says so.
      assert.equal(await page.evaluate((key) => (globalThis as unknown as { RED: { _(k: string): string } }).RED._(key), `${NS}wonder-terminal.editor.pair`), zh['wonder-terminal'].editor.pair);

      // LAN TLS fields: hidden for the simulator, shown for LAN with the zh-TW labels and the fingerprint format.
      assert.equal(await page.isVisible('#node-config-input-tlsFingerprint'), false);
      await page.selectOption('#node-config-input-transport', 'lan');
      await page.waitForSelector('#node-config-input-tlsFingerprint', { state: 'visible' });
      assert.equal(await page.isVisible('#node-config-input-https'), true);
      assert.equal(await page.isVisible('#node-config-input-caFile'), true);
      assert.equal(await page.getAttribute('#node-config-input-tlsFingerprint', 'placeholder'), zh['wonder-terminal'].placeholder.tlsFingerprint);
      assert.match((await page.innerText('label[for="node-config-input-tlsFingerprint"]')).trim(), new RegExp(zh['wonder-terminal'].label.tlsFingerprint));

      // A bad field: answered with its code and field, shown from errors.field.host in zh-TW.
      await page.fill('#node-config-input-host', 'http://192.168.1.20');
      await page.fill('#node-config-input-pairingCode', '260880');
      assert.equal(await pairAndRead(page), zh.errors.field.host);

      // Back to the simulator: a wrong code is a security error, in zh-TW, and never shows the code.
      await page.selectOption('#node-config-input-transport', 'simulator');
      await page.waitForSelector('#node-config-input-tlsFingerprint', { state: 'hidden' });
      await page.fill('#node-config-input-pairingCode', '111111');
      const wrong = await pairAndRead(page);
      assert.equal(wrong, zh.errors.wrongPairingCode);
      assert.doesNotMatch(wrong, /111111/);

      // Wrong codes cost time: after 3 failures the lock answers 429, shown with the wait in zh-TW.
      const rateLimited = pattern(zh['wonder-terminal'].editor.pairRateLimited);
      const seen: string[] = [wrong];
      for (let i = 0; i < 6 && !rateLimited.test(seen.at(-1)!); i++) seen.push(await pairAndRead(page));
      const last = seen.at(-1)!;
      assert.match(last, rateLimited, `attempts: ${JSON.stringify(seen)}`);
      assert.match(last, /請於 \d+ 秒後再試/);
      assert.ok(seen.slice(0, -1).every((t) => t === zh.errors.wrongPairingCode), JSON.stringify(seen));
    } finally {
      await page.context().close();
    }
  });
});
