import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeRedScript } from './node-red-install';
import { tempDir } from './temp';

const root = path.resolve(__dirname, '..', '..', '..');

export interface NodeRedProcess {
  url: string;
  userDir: string;
  child: ChildProcess;
  /** Everything Node-RED printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a real Node-RED (node red.js of the Node-RED under test) with the demo
 * settings (or `settings`, a file of the test's own), a fresh user directory
 * and the given flows, on a free port.
 */
export async function startNodeRed(options: { flows: unknown[]; credentials?: Record<string, unknown>; userDir?: string; env?: Record<string, string>; settings?: string }): Promise<NodeRedProcess> {
  const userDir = options.userDir ?? tempDir('wonder-nr-');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows));
  const child = spawn(process.execPath, [nodeRedScript(), '--settings', options.settings ?? path.join(root, 'demo', 'settings.js')], {
    cwd: root,
    env: { ...process.env, WONDER_DEMO_USERDIR: userDir, WONDER_DEMO_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start within 30 s:\n${out}`)), 30_000);
    const check = () => {
      const server = /Server now running at (http:\/\/[^\s/]+)\//.exec(out);
      if (server && /Started flows/.test(out)) {
        clearTimeout(timer);
        resolve(server[1]!.replace('0.0.0.0', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${code}) before starting:\n${out}`));
    });
  });
  return {
    url,
    userDir,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}
