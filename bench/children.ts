import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './paths';

/** Starts one of the benchmark's child scripts (next to this file) and waits for its first IPC message. */
export function startChild<T>(script: string, args: string[], options: { execArgv?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; message: T }> {
  const child = fork(path.join(__dirname, script), args, {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
    // The test helper finds Node-RED from the working directory.
    cwd: repoRoot(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} sent nothing within ${options.timeoutMs ?? 120_000} ms`));
    }, options.timeoutMs ?? 120_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({ child, message: message as T });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before answering`));
    });
  });
}

/** Runs a child script to its end and returns its one message. */
export async function runChild<T>(script: string, args: string[], options: { execArgv?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<T> {
  const { child, message } = await startChild<T>(script, args, options);
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  return message;
}

/** Asks a started child to stop and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
}
