/**
 * One writer per journal file: a lock file `.<journal>.lock` beside it, created with
 * O_EXCL, holding the writer's pid, its process start time (so a pid reused
 * by another process after a crash is not taken for the writer), host and
 * command. A lock whose process is gone is taken over; a live one refuses
 * with an error naming that process. Works across processes (two Node-RED
 * runtimes on one user directory) and within one (two config nodes, or a
 * journal opened twice). Readers take no lock.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPrivateFileOnce } from './private-files';

const { O_NOFOLLOW, O_RDONLY } = fs.constants;

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  /** The process's start time (Linux: clock ticks after boot, from /proc/<pid>/stat); '' where unknown. */
  start: string;
  host: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** The journal is written by another live process (or another journal in this one). */
export class JournalLockedError extends Error {
  readonly code = 'E_JOURNAL_LOCKED';
  constructor(
    readonly file: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(
      owner === undefined
        ? `${file} is being written by another journal (its lock file ${lockFileOf(file)} is unreadable)`
        : owner.pid === process.pid && owner.host === os.hostname()
          ? `${file} is already open for writing in this process (another terminal or journal uses it)`
          : `${file} is being written by process ${owner.pid} (${owner.command || 'unknown command'} on ${owner.host}, since ${owner.since}); one journal has one writer`,
    );
    this.name = 'JournalLockedError';
  }
}

/** The start time of a process, or '' where /proc cannot tell. */
function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command in parentheses (which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

function isAlive(owner: LockOwner): boolean {
  // Another host's process cannot be checked from here: taken for alive.
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(owner.pid);
  return start === '' || owner.start === '' || start === owner.start;
}

/** The lock file of a journal: hidden beside it (`.journal-x.jsonl.lock`), so no `journal-*` pattern takes it for a journal. */
export function lockFileOf(journalFile: string): string {
  const full = path.resolve(journalFile);
  return path.join(path.dirname(full), `.${path.basename(full)}.lock`);
}

/** Journal files locked by this process (their lock file's path). */
const heldHere = new Set<string>();

function readOwner(lockFile: string): LockOwner | undefined | 'missing' {
  let text: string;
  try {
    const fd = fs.openSync(lockFile, O_RDONLY | O_NOFOLLOW);
    try {
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return undefined;
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    if (typeof o.pid === 'number' && typeof o.host === 'string') return { pid: o.pid, start: String(o.start ?? ''), host: o.host, command: String(o.command ?? ''), since: String(o.since ?? '') };
  } catch {
    // A lock file torn by a crash while it was written: its writer is gone.
  }
  return { pid: 0, start: '', host: os.hostname(), command: '', since: '' };
}

function createLock(lockFile: string, owner: LockOwner): boolean {
  return createPrivateFileOnce(lockFile, Buffer.from(JSON.stringify(owner)));
}

/** A stale lock (process gone, or this process's own lock left by a journal never closed) may be removed. */
function isStale(lockFile: string, owner: LockOwner): boolean {
  if (owner.pid === 0) return true;
  if (owner.pid === process.pid && owner.host === os.hostname() && owner.start === processStart(process.pid)) return !heldHere.has(lockFile);
  return !isAlive(owner);
}

/** The lock on one journal file, held until released. */
export class JournalLock {
  private released = false;
  private constructor(readonly lockFile: string) {}

  /** Takes the lock of `journalFile`, taking over a stale one; JournalLockedError when a live writer holds it. */
  static acquire(journalFile: string): JournalLock {
    const lockFile = lockFileOf(journalFile);
    if (heldHere.has(lockFile)) throw new JournalLockedError(journalFile, readOwnerOrUndefined(lockFile));
    const me: LockOwner = { pid: process.pid, start: processStart(process.pid), host: os.hostname(), command: process.title, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createLock(lockFile, me)) {
        heldHere.add(lockFile);
        return new JournalLock(lockFile);
      }
      const owner = readOwner(lockFile);
      if (owner === 'missing') continue; // released meanwhile: try again
      if (owner === undefined || !isStale(lockFile, owner)) throw new JournalLockedError(journalFile, owner);
      takeOver(lockFile, owner);
    }
    throw new JournalLockedError(journalFile, readOwnerOrUndefined(lockFile));
  }

  /** Removes the lock file (once). */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.lockFile);
    try {
      const owner = readOwner(this.lockFile);
      // Only our own: a lock taken over meanwhile (we were thought dead) is the other's.
      if (owner !== 'missing' && owner !== undefined && owner.pid === process.pid) fs.rmSync(this.lockFile, { force: true });
    } catch {
      // Nothing to release.
    }
  }
}

function readOwnerOrUndefined(lockFile: string): LockOwner | undefined {
  const o = readOwner(lockFile);
  return o === 'missing' ? undefined : o;
}

/**
 * Removes a stale lock under a short-lived guard (`.lock.takeover`, O_EXCL),
 * so that two processes taking over the same stale lock at once do not both
 * remove a lock one of them has just created.
 */
function takeOver(lockFile: string, stale: LockOwner): void {
  const guard = `${lockFile}.takeover`;
  const me: LockOwner = { pid: process.pid, start: processStart(process.pid), host: os.hostname(), command: process.title, since: new Date().toISOString() };
  if (!createLock(guard, me)) {
    const other = readOwner(guard);
    // A guard left by a process that died during its take-over: removed, and the next attempt goes on.
    if (other !== 'missing' && (other === undefined || !isAlive(other) || other.pid === 0)) fs.rmSync(guard, { force: true });
    return;
  }
  try {
    const now = readOwner(lockFile);
    if (now !== 'missing' && now !== undefined && now.pid === stale.pid && now.start === stale.start && now.since === stale.since) fs.rmSync(lockFile, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}
