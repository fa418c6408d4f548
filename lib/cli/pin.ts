/**
 * Where the command line gets the pairing code: never from a flag (it would
 * show in `ps` and the shell history), but from WONDER_PIN, a file named by
 * --pin-file, or a prompt without echo when stdin is a terminal.
 */
import { readFileSync, statSync } from 'node:fs';
import { validatePairingCode, ValidationError } from '../protocol';

export const PIN_SOURCES = 'set the environment variable WONDER_PIN, give --pin-file FILE, or leave both out to be asked for it';

/** Flags that would put the pairing code on the command line. */
const PIN_FLAGS = /^--?(pin|pin-code|pincode|pairing-code|code)(=|$)/i;

/** Refuses a pairing code given as a flag, without repeating it. */
export function refusePinFlag(argv: readonly string[]): void {
  const flag = argv.find((a) => PIN_FLAGS.test(a));
  if (flag !== undefined) {
    throw new ValidationError(flag.split('=')[0]!.slice(0, 20), `the pairing code is not taken on the command line (ps and the shell history would show it): ${PIN_SOURCES}`);
  }
}

export interface PinSources {
  pinFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Asks for the code without echo; undefined when there is no terminal to ask on. */
  prompt?: (() => Promise<string>) | undefined;
  /** Warnings (a pin file others can read). */
  warn: (line: string) => void;
}

function fromFile(file: string, warn: (line: string) => void): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
    if ((statSync(file).mode & 0o077) !== 0) warn(`wonder-ecr: warning: ${file} can be read by other users; chmod 600 it`);
  } catch (err) {
    throw new ValidationError('--pin-file', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text.replace(/\r?\n$/, '');
}

/** The pairing code from the file, the environment or the prompt, in that order; checked, never echoed. */
export async function readPairingCode(sources: PinSources, fallback?: string): Promise<string> {
  let code: string | undefined;
  let field = 'WONDER_PIN';
  if (sources.pinFile !== undefined) {
    code = fromFile(sources.pinFile, sources.warn);
    field = '--pin-file';
  } else if (sources.env.WONDER_PIN !== undefined && sources.env.WONDER_PIN !== '') {
    code = sources.env.WONDER_PIN;
  } else if (fallback !== undefined) {
    code = fallback;
  } else if (sources.prompt !== undefined) {
    code = await sources.prompt();
    field = 'pairing code';
  } else {
    throw new ValidationError('WONDER_PIN', `the pairing code is required: ${PIN_SOURCES} (in a terminal)`);
  }
  return validatePairingCode(code, field);
}

/** Reads one line from a TTY without echo. */
export function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    // Echo off before the question shows: nothing typed after it is echoed.
    input.setRawMode(true);
    input.resume();
    output.write(question);
    let answer = '';
    const finish = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (err !== undefined) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new ValidationError('pairing code', 'not given'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    };
    input.on('data', onData);
  });
}
