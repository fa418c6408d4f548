/**
 * Files only this user may read: a directory of mode 0700, files of mode
 * 0600, opened without following symbolic links (O_NOFOLLOW), written
 * atomically (temporary file, fsync, rename, fsync of the directory).
 * Used for the state that must outlive a restart: the cloud pairing store
 * and the EasyCard journal.
 *
 * A folder that holds this state must be this user's own and closed to
 * writing by others (checkPrivateDirectory); one that is not is refused,
 * never repaired: an existing folder is never chmodded (it may be a shared
 * one such as /tmp). Files read back (keys, identities) must be this user's
 * own, not writable by others, and not symbolic links.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SecurityError } from '../protocol';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = fs.constants;

/** Where the command line keeps its state: `$XDG_STATE_HOME/wonder-ecr`, else `~/.local/state/wonder-ecr`. */
export function cliStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec: a relative path is invalid and is to be ignored.
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir(), '.local', 'state');
  return path.join(base, 'wonder-ecr');
}

const ownUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Throws a SecurityError naming `dir` and the fix unless it is a real
 * directory (not a symbolic link) owned by this process's user and not
 * writable by group or others. Where the platform has no user ids (Windows),
 * only the kind of file is checked.
 */
export function checkPrivateDirectory(dir: string): void {
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink()) throw new SecurityError(`${dir} is a symbolic link: the package keeps its state only in a real folder of its own; point it at the folder itself`);
  if (!st.isDirectory()) throw new SecurityError(`${dir} is not a directory`);
  const uid = ownUid();
  if (uid === undefined) return;
  if (st.uid !== uid) {
    throw new SecurityError(`${dir} belongs to another user (uid ${st.uid}, this process runs as uid ${uid}): its files could be planted or read by that user. Use a folder of this user's own (mkdir -m 700 <folder>), or chown ${uid} ${dir} if it is meant to be this user's`);
  }
  if ((st.mode & 0o022) !== 0) {
    // A shared folder (sticky, such as /tmp) is not to be closed: only another folder will do.
    const fix = (st.mode & 0o1000) !== 0 ? 'Use a folder of this user\'s own (mkdir -m 700 <folder>)' : `Run chmod 700 ${dir}, or use a folder of this user's own (mkdir -m 700 <folder>)`;
    throw new SecurityError(`${dir} can be written by other users (mode ${octal(st.mode)}): they could plant or replace its files. ${fix}`);
  }
}

/**
 * Creates `dir` and any missing parent (mode 0700, less the umask) if
 * needed, then checks it (checkPrivateDirectory). An existing folder, or
 * an existing parent, is never chmodded: one that is not private is refused.
 */
export function ensurePrivateDirectory(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDirectory(dir);
}

/** A SecurityError when the file of this stat belongs to another user than this process's. */
function otherOwner(file: string, st: fs.Stats): SecurityError | undefined {
  const uid = ownUid();
  if (uid === undefined || st.uid === uid) return undefined;
  return new SecurityError(`${file} belongs to another user (uid ${st.uid}, this process runs as uid ${uid}): not used. Remove it, or chown ${uid} it if it is meant to be this user's`);
}

/** Throws a SecurityError unless the file of this stat is this user's own and not writable by group or others. */
function checkOwnedFile(file: string, st: fs.Stats): void {
  const foreign = otherOwner(file, st);
  if (foreign !== undefined) throw foreign;
  if ((st.mode & 0o022) !== 0) throw new SecurityError(`${file} can be written by other users (mode ${octal(st.mode)}): not used. Run chmod 600 ${file}`);
}

/**
 * Opens an existing file for reading without following a symbolic link;
 * undefined when there is none. It must be this user's own and not writable
 * by others (SecurityError otherwise).
 */
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
    checkOwnedFile(file, st);
    if (st.size > maxBytes) throw new Error(`${file} is larger than ${maxBytes} bytes`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * O_DSYNC on Linux: every write returns once its bytes, and what is needed to
 * read them back (the file's size), are on stable storage, as write +
 * fdatasync would give. Not elsewhere: Windows has no O_DSYNC, and on macOS
 * libuv's fdatasync is fcntl(F_FULLFSYNC), which also flushes the drive's own
 * cache, where an O_DSYNC write does not.
 */
export const O_DSYNC_IF_ANY: number | undefined = process.platform === 'linux' ? fs.constants.O_DSYNC : undefined;

/** fsyncs a directory (a rename in it made durable), off the event loop; a file system that cannot is left as it is. */
export async function fsyncDirectoryAsync(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, O_RDONLY);
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Opens (creating, mode 0600) a file for appending, without following a
 * symbolic link; `dsync`: with O_DSYNC where the platform has it. An
 * existing file must be this user's own (SecurityError otherwise); if others
 * may read or write it, it is closed to them.
 */
export function openPrivateAppend(file: string, options: { dsync?: boolean } = {}): number {
  try {
    const dsync = options.dsync === true && O_DSYNC_IF_ANY !== undefined ? O_DSYNC_IF_ANY : 0;
    const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | dsync, 0o600);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      throw new Error(`${file} is not a regular file`);
    }
    const foreign = otherOwner(file, st);
    if (foreign !== undefined) {
      fs.closeSync(fd);
      throw foreign;
    }
    if ((st.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
    return fd;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${file} is a symbolic link: not opened`);
    throw err;
  }
}

/**
 * What to write before appending lines to a file of `size` bytes: a newline
 * when its last line was torn (a power cut mid-append), so the next line
 * starts fresh and only the torn one is lost.
 */
export function freshLinePrefix(file: string, size: number): string {
  if (size === 0) return '';
  const last = Buffer.alloc(1);
  const rfd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
  try {
    fs.readSync(rfd, last, 0, 1, size - 1);
  } finally {
    fs.closeSync(rfd);
  }
  return last[0] === 0x0a ? '' : '\n';
}

/** Appends text to a private file (see openPrivateAppend) on a fresh line and fsyncs it before returning. */
export function appendPrivateDurably(file: string, text: string): void {
  const fd = openPrivateAppend(file);
  try {
    fs.writeSync(fd, freshLinePrefix(file, fs.fstatSync(fd).size) + text);
    fs.fsyncSync(fd);
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
