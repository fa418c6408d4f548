import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** The command line under test: bin/wonder-ecr.js of this repository. */
export const WONDER_ECR_BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'wonder-ecr.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wonder-ecr …` (stdin not a terminal) with the test's environment plus `env`, to its exit. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WONDER_ECR_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
