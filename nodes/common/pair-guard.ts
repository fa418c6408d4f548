/**
 * Guards of the editor's Pair endpoint: JSON bodies only (a form or
 * text/plain post can come cross-site from any page the editor's user opens),
 * one attempt at a time per terminal and user, a few attempts at once in all,
 * and a wrong code costs time: after 3 failures in a row each further attempt
 * waits 2^(n-3) s, up to 5 minutes.
 *
 * The lock is keyed on the terminal the attempt goes to, as the transport
 * would reach it (pairTargetKey: the canonical host and numeric port, the
 * serial port's real path, the cloud business), and on the editor user
 * (`req.user`, or anonymous without adminAuth): never on the request's own
 * node id, which a guesser makes up afresh each time. Another user's
 * attempts at the same terminal are counted apart (one user's typos do not
 * lock the shop's administrator out; any editor user can deploy flows, so
 * the per-user count gives a guesser with an account nothing new).
 * One user's failures are also counted across all terminals: after
 * PAIR_USER_FREE_FAILURES of them that user waits the same way at every
 * terminal, so names that reach one terminal under other spellings (DNS
 * aliases such as nip.io names) gain nothing. A success does not clear that
 * count; it lapses an hour after the user's last failure.
 * Entries idle for an hour are dropped (their count starts again), and at
 * most 10,000 are kept (the oldest idle ones go first).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import type { TerminalConfig } from '../../lib/session';

export const PAIR_FREE_FAILURES = 3;
/** Wrong codes one user may make across all terminals before that user waits too. */
export const PAIR_USER_FREE_FAILURES = 10;
export const PAIR_MAX_LOCK_MS = 5 * 60_000;
/** Pair attempts running at once, all terminals and users together. */
export const PAIR_MAX_CONCURRENT = 4;
/** An entry with no attempt for this long is dropped. */
export const PAIR_ENTRY_TTL_MS = 60 * 60_000;
export const PAIR_MAX_ENTRIES = 10_000;
const LAN_DEFAULT_PORT = 8443;

/** 415 for anything but application/json. */
export function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    res.status(415).json({ ok: false, code: 'E_MEDIA_TYPE' });
    return;
  }
  next();
}

/**
 * A host name or address literal in one spelling: lower case, no trailing
 * dot, no brackets; IPv6 compressed (an IPv4-mapped one as its IPv4);
 * IPv4 in dotted decimal (`127.1`, `0x7f.0.0.1` → `127.0.0.1`). Literal
 * only: no name is resolved (`localhost` stays `localhost`).
 */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.+$/, '');
  // A zone (fe80::1%eth0) is kept apart, lower case; the address before it is canonicalised.
  const zone = /%.*$/.exec(h)?.[0] ?? '';
  const address = h.slice(0, h.length - zone.length);
  if (net.isIPv6(address)) {
    if (zone !== '') return `${new URL(`http://[${address}]/`).hostname.slice(1, -1)}${zone.replace(/^%25/, '%')}`;
    h = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (mapped !== null) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return h;
  }
  try {
    return new URL(`http://${h}/`).hostname.replace(/\.+$/, '');
  } catch {
    return h;
  }
}

/** The terminal an attempt goes to, in one spelling per terminal (see canonicalHost). */
export function pairTargetKey(config: TerminalConfig): string {
  switch (config.transport) {
    case 'lan': {
      const given = config.port === undefined || config.port === '' ? LAN_DEFAULT_PORT : Number(String(config.port).trim());
      const port = Number.isInteger(given) ? String(given) : String(config.port);
      return `lan ${canonicalHost(String(config.host ?? ''))} ${port}`;
    }
    case 'serial': {
      // /dev/serial/by-id/… and /dev/ttyUSB0 are one port: its real path (the path as given when there is none).
      const given = path.posix.normalize(String(config.serialPort ?? '')).replace(/\/+$/, '');
      let real = given;
      try {
        real = fs.realpathSync(given);
      } catch {
        // no such path (yet): keyed as given
      }
      return `serial ${real}`;
    }
    case 'cloud':
      // The business alone: with and without the device SN (learnt on pairing) it is one terminal's account.
      return `cloud ${String(config.businessId ?? '').trim().toLowerCase()}`;
    default:
      return String(config.transport);
  }
}

/** The editor user an attempt comes from: `req.user.username`, or anonymous (no adminAuth). */
export function pairUserKey(req: Request): string {
  const user = (req as Request & { user?: { username?: unknown } }).user;
  return typeof user?.username === 'string' && user.username !== '' ? `user ${user.username}` : 'anonymous';
}

interface Entry {
  failures: number;
  lockedUntil: number;
  busy: boolean;
  lastAt: number;
}

/** One user's failures across all terminals. */
interface UserEntry {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

/** The wait after `failures` failures of which `free` cost nothing: 1 s, 2 s, 4 s … up to PAIR_MAX_LOCK_MS. */
function lockMs(failures: number, free: number): number {
  return failures < free ? 0 : Math.min(1000 * 2 ** (failures - free), PAIR_MAX_LOCK_MS);
}

/** The user of a key made by PairLimiter.key. */
function userOf(key: string): string {
  const parsed: unknown = key.startsWith('["') ? JSON.parse(key) : undefined;
  return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : key;
}

export class PairLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly users = new Map<string, UserEntry>();
  private running = 0;
  constructor(private readonly now: () => number = Date.now) {}

  /** The key of an attempt: the user and the terminal (see the file's comment). */
  static key(user: string, target: string): string {
    return JSON.stringify([user, target]);
  }

  /** Entries kept (tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Undefined when an attempt may start (and marks it started); else how many ms to wait (0: one is running). */
  begin(key: string): number | undefined {
    const now = this.now();
    this.prune(now);
    const known = this.entries.get(key);
    // A new key needs room: the oldest idle entry goes; when all are locks in force, none (they stay).
    if (known === undefined && !this.makeRoom(now)) return 1000;
    const entry = known ?? { failures: 0, lockedUntil: 0, busy: false, lastAt: now };
    // Most recently used last: the oldest are pruned first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (entry.busy) return 0;
    const wait = Math.max(entry.lockedUntil, this.users.get(userOf(key))?.lockedUntil ?? 0) - now;
    if (wait > 0) return wait;
    if (this.running >= PAIR_MAX_CONCURRENT) return 1000;
    entry.busy = true;
    entry.lastAt = now;
    this.running++;
    return undefined;
  }

  /** Ends an attempt; `failed` counts towards the lock (a wrong code, an unreachable terminal). */
  end(key: string, failed: boolean): void {
    const entry = this.entries.get(key);
    if (entry === undefined || !entry.busy) return;
    entry.busy = false;
    this.running--;
    entry.lastAt = this.now();
    if (!failed) {
      this.entries.delete(key);
      return;
    }
    entry.failures++;
    if (entry.failures >= PAIR_FREE_FAILURES) entry.lockedUntil = entry.lastAt + lockMs(entry.failures, PAIR_FREE_FAILURES);
    // The user's count across all terminals (aliases of one terminal are counted here).
    const user = userOf(key);
    const counted = this.users.get(user) ?? { failures: 0, lockedUntil: 0, lastAt: entry.lastAt };
    this.users.delete(user);
    this.users.set(user, counted);
    counted.failures++;
    counted.lastAt = entry.lastAt;
    if (counted.failures >= PAIR_USER_FREE_FAILURES) counted.lockedUntil = counted.lastAt + lockMs(counted.failures, PAIR_USER_FREE_FAILURES);
  }

  /** Drops entries an hour old (in order of use: the first recent one ends the walk); a lock in force is never dropped. */
  private prune(now: number): void {
    for (const [user, entry] of this.users) {
      if (now - entry.lastAt < PAIR_ENTRY_TTL_MS) break;
      if (entry.lockedUntil <= now) this.users.delete(user);
    }
    for (const [key, entry] of this.entries) {
      if (now - entry.lastAt < PAIR_ENTRY_TTL_MS) return;
      if (!entry.busy && entry.lockedUntil <= now) this.entries.delete(key);
    }
  }

  /** Room for one more entry: at PAIR_MAX_ENTRIES the oldest idle one (not running, not locked) goes; false when none can. */
  private makeRoom(now: number): boolean {
    if (this.entries.size < PAIR_MAX_ENTRIES) return true;
    for (const [key, entry] of this.entries) {
      if (!entry.busy && entry.lockedUntil <= now) {
        this.entries.delete(key);
        return true;
      }
    }
    return false;
  }
}
