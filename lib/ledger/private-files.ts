/**
 * Files only this user may read: a directory of mode 0700, files of mode
 * 0600, opened without following symbolic links (O_NOFOLLOW), written
 * atomically (temporary file, fsync, rename, fsync of the directory).
 * Used for the state that must outlive a restart beside the ledger: the
 * cloud pairing store and its key.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** Where the command line keeps its state: `$XDG_STATE_HOME/wonder-ecr`, else `~/.local/state/wonder-ecr`. */
export function cliStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec: a relative path is invalid and is to be ignored.
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir(), '.local', 'state');
  return path.join(base, 'wonder-ecr');
}

/**
 * Creates `dir` (mode 0700) if needed. An existing one must be a real
 * directory (not a symbolic link); if it is ours and open to others, it is
 * closed to them.
 */
export function ensurePrivateDirectory(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symbolic link is not accepted)`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if ((st.mode & 0o077) !== 0 && (uid === undefined || st.uid === uid)) fs.chmodSync(dir, 0o700);
}

/** Opens an existing file for reading without following a symbolic link; undefined when there is none. */
export function readPrivateFile(file: string, maxBytes: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${file} is a symbolic link: not read`);
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${file} is larger than ${maxBytes} bytes`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, O_RDONLY);
    fs.fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically (mode 0600, fsync'd, never through a symbolic link). */
export function writePrivateFileAtomic(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // rename() replaces a symbolic link at `file` itself, never what it points to.
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

/** Creates a file with `data` only if none exists (mode 0600, O_EXCL, fsync'd); false when one existed. */
export function createPrivateFileOnce(file: string, data: Buffer): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDirectory(path.dirname(file));
  return true;
}

/** A file name part from free text: safe characters kept, others replaced. */
export function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
}
