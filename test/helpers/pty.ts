import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A pair of connected pseudo-terminals made by socat: bytes written to one
 * end come out of the other, like two serial ports joined by a null-modem
 * cable. Stopping socat makes both ends vanish, like an unplugged adapter.
 */
export interface PtyPair {
  /** Link to the first pty (give it to the code under test). */
  readonly a: string;
  /** Link to the second pty (the peer, e.g. a fake terminal). */
  readonly b: string;
  /** socat's process id. */
  readonly pid: number;
  /**
   * Kills socat (SIGTERM by default; SIGKILL to vanish without socat tidying
   * up its links) and waits for it to exit. Removes the temporary folder if
   * this pair made it. Calling it again is fine.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface PtyPairOptions {
  /**
   * Link paths to use, e.g. those of a stopped pair to bring "the same
   * device" back. Default: `a` and `b` in a new temporary folder.
   */
  a?: string;
  b?: string;
  /** How long to wait for socat to make both ptys. Default 5000 ms. */
  timeoutMs?: number;
  /** socat binary. Default /usr/bin/socat. */
  socat?: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave socat behind, even when a test run is cut short. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  if ((options.a === undefined) !== (options.b === undefined)) {
    throw new Error('startPtyPair: give both a and b, or neither');
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  let dir: string;
  let ownsDir: boolean;
  let a: string;
  let b: string;
  if (options.a !== undefined && options.b !== undefined) {
    a = options.a;
    b = options.b;
    dir = dirname(a);
    ownsDir = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    mkdirSync(dirname(b), { recursive: true });
    // Links left by a killed socat would look like a ready pair.
    removeStaleLink(a);
    removeStaleLink(b);
  } else {
    dir = mkdtempSync(join(tmpdir(), 'wonder-pty-'));
    ownsDir = true;
    a = join(dir, 'a');
    b = join(dir, 'b');
  }

  const child = spawn(
    options.socat ?? '/usr/bin/socat',
    ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(child);
  installExitHook();
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    // Keep the start (pty names, the ready line) and bound the rest.
    if (stderr.length < 16384) stderr += text;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!hasExited && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      let force: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise<void>((resolve) => {
          force = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 2000);
        }),
      ]);
      if (force) clearTimeout(force);
      await exited;
    }
    child.stderr?.destroy();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      await stop('SIGKILL');
      throw new Error(`cannot start socat: ${spawnError.message}`);
    }
    if (hasExited || child.exitCode !== null) {
      await stop();
      throw new Error(`socat exited (code ${child.exitCode}, signal ${child.signalCode}) before making a pty pair:\n${stderr}`);
    }
    if (stderr.includes('starting data transfer loop') && existsSync(a) && existsSync(b)) break;
    if (Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(`socat did not make a pty pair at ${a} and ${b} within ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  return { a, b, pid: child.pid ?? -1, stop };
}

function removeStaleLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
