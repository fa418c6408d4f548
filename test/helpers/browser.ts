import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (CHROMIUM_PATH to use another). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, no sandbox (containers), and nothing that reaches the network by itself. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Debian's chromium for the browser tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** Waits until a Node-RED editor page has loaded the flow node `id` (its palette can be drawn before the flows are). */
export async function waitForNode(page: Page, id: string): Promise<void> {
  await page.waitForFunction((nodeId) => (globalThis as unknown as { RED?: InPage }).RED?.nodes?.node(nodeId) != null, id, { timeout: 60_000 });
}

/** Opens the edit dialog of the flow node `id` in a Node-RED editor page, once the editor has it. */
export async function editNode(page: Page, id: string): Promise<void> {
  await waitForNode(page, id);
  await page.evaluate((nodeId) => {
    const RED = (globalThis as unknown as { RED: InPage }).RED;
    RED.editor.edit(RED.nodes.node(nodeId));
  }, id);
}

type InPage = { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } };
