import * as path from 'node:path';
import { WonderError } from '../../lib/protocol';
import { deviceSnOf, Journal, JournalFollower, JournalLockedError, type FollowedJournal, type TerminalSession } from '../../lib/session';

/** How long payments and recovery wait for the terminal to say who it is after connecting (the health check's bound). */
export const IDENTITY_CHECK_MS = 5_000;

/** What an answer carries of the terminal itself. */
interface AnswerLike {
  header?: { serverDeviceSN?: unknown };
  body?: unknown;
}

export interface DeviceIdentityEvents {
  /** The journal moved (to the SN's journal): its file and the entries' terminal name. */
  moved(to: FollowedJournal): void;
  /** The terminal's SN journal has another live writer: another config node (or process) on the same terminal. */
  duplicate(err: JournalLockedError): void;
}

/**
 * A terminal's own identity as its answers tell it: `device` (SN from every
 * answer's header, software version from DeviceInfo / Ack) and, for a real
 * terminal (serial, LAN, cloud), the journal that follows the SN.
 *
 * While the SN is not yet known in this connection, payments and recovery
 * wait for the identity check (a DeviceInfo right after connecting, at most
 * IDENTITY_CHECK_MS, as long as the health check may already hold them);
 * when the terminal does not answer in that time a payment goes ahead in the
 * journal that is open (the SN journal of the SN last seen at this place, or
 * the place's own), and recovery waits for the first answer. Once the SN is
 * known the journal moves to the SN's at once (synchronously, see
 * JournalFollower), between or even during requests: nothing is written to a
 * journal that will not be recovered from.
 */
export class DeviceIdentity {
  readonly device: { sn?: string; softwareVersion?: string } = {};
  private current: FollowedJournal | undefined;
  private readonly follower: JournalFollower | undefined;
  /** The SN was confirmed by an answer since the last connect. */
  private confirmed = false;
  /** The header's serverDeviceSN as the answer that confirmed it (and moved the journal, if it had to) said it. */
  private saidSn: unknown;
  private checking: Promise<void> | undefined;
  private session: TerminalSession | undefined;
  /** Ask DeviceInfo after each connect (serial, LAN: another terminal may be behind the same port or address). */
  private checkOnConnect = false;

  /** Opens the journal; a journal that cannot be opened (or has another writer) is a configuration error naming the field. */
  static open(options: { journalFile?: string; terminalId?: string; followDeviceSn?: boolean; config: { transport: string } }, events: DeviceIdentityEvents): DeviceIdentity {
    try {
      const identity = new DeviceIdentity(options.journalFile, options.terminalId, options.followDeviceSn === true, events);
      // A cloud terminal is named by its device SN already: its answers confirm it, no DeviceInfo is asked for.
      identity.checkOnConnect = options.config.transport === 'serial' || options.config.transport === 'lan';
      return identity;
    } catch (cause) {
      throw new WonderError('E_VALIDATION', `the transaction journal cannot be opened: ${(cause as Error).message}`, { cause, field: 'journal' });
    }
  }

  /** No journal, no session (an unusable config). */
  static none(): DeviceIdentity {
    return new DeviceIdentity(undefined, undefined, false, { moved: () => undefined, duplicate: () => undefined });
  }

  /** Opens the journal (`journalFile`: the place's own; `follow`: move it to the SN's once known). Throws when it cannot be opened. */
  constructor(
    journalFile: string | undefined,
    place: string | undefined,
    follow: boolean,
    private readonly events: DeviceIdentityEvents,
  ) {
    if (journalFile === undefined) return;
    if (follow && place !== undefined) {
      this.follower = new JournalFollower(path.dirname(journalFile), place);
      this.current = this.follower.start();
    } else {
      this.current = { journal: new Journal(journalFile), terminalId: place ?? 'terminal' };
    }
  }

  get journal(): Journal | undefined {
    return this.current?.journal;
  }

  get terminalId(): string | undefined {
    return this.current?.terminalId;
  }

  /** What the session is built with: the journal and the entries' terminal name. */
  sessionOptions(fallbackTerminalId: string | undefined): { journal?: Journal; terminalId?: string } {
    if (this.current !== undefined) return { journal: this.current.journal, terminalId: this.current.terminalId };
    return fallbackTerminalId !== undefined ? { terminalId: fallbackTerminalId } : {};
  }

  /** The session to move the journal of (set once it exists). */
  attach(session: TerminalSession): this {
    this.session = session;
    return this;
  }

  /** Whether recovery may ask the terminal now: not before it has said who it is when the journal is an SN's from an earlier run. */
  get mayRecover(): boolean {
    return this.confirmed || this.current?.sn === undefined || !this.checkOnConnect;
  }

  /** A (re)connect: the terminal behind the line may be another one. Payments and recovery wait (bounded) for `check` to tell. */
  connected(check: () => Promise<unknown>): void {
    this.confirmed = false;
    // Only a journal that follows the SN needs to know it before going on (the simulator, a pairing dialog's session: learnt from answers).
    if (this.checking !== undefined || this.follower === undefined || !this.checkOnConnect) return;
    let finish!: () => void;
    const mine = new Promise<void>((resolve) => (finish = resolve));
    this.checking = mine;
    const done = () => {
      clearTimeout(timer);
      // A later connect's check is its own.
      if (this.checking === mine) this.checking = undefined;
      finish();
    };
    const timer = setTimeout(done, IDENTITY_CHECK_MS);
    timer.unref?.();
    check().then((answer) => this.observe(answer), () => undefined).finally(done);
  }

  /** Whether an identity check after connecting is under way (ready() would wait). */
  get checkRunning(): boolean {
    return this.checking !== undefined;
  }

  /** Resolves when the identity check after connecting is over (at once when none runs). */
  ready(): Promise<void> {
    return this.checking ?? Promise.resolve();
  }

  /** Learns from an answer; moves the journal when the SN is new. Returns true when the SN was confirmed by this answer. */
  observe(answer: unknown): boolean {
    const a = answer as AnswerLike | undefined;
    const version = (a?.body as { softwareVersion?: unknown } | undefined)?.softwareVersion;
    if (typeof version === 'string' && version !== '') this.device.softwareVersion = version.slice(0, 64);
    const said = a?.header?.serverDeviceSN;
    // The usual answer: the SN already confirmed in this connection, as it was said then (nothing to check or move).
    if (this.confirmed && said === this.saidSn) return false;
    const sn = deviceSnOf(said);
    if (sn === undefined) return false;
    this.device.sn = sn;
    const wasConfirmed = this.confirmed;
    this.confirmed = true;
    if (this.follower !== undefined && this.current !== undefined && this.session !== undefined) {
      let next: FollowedJournal | undefined;
      try {
        next = this.follower.follow(sn, this.current);
      } catch (err) {
        if (err instanceof JournalLockedError) {
          this.confirmed = wasConfirmed;
          this.events.duplicate(err);
          return false;
        }
        // The SN journal cannot be written (disk): go on in the open one, and try again at the next answer.
        this.confirmed = wasConfirmed;
        return false;
      }
      if (next !== undefined) {
        const old = this.current;
        this.session.useJournal(next.journal, next.terminalId);
        this.current = next;
        old.journal.close().then(
          () => {
            if (old.sn === undefined) this.follower!.retirePlaceJournal(sn);
          },
          () => undefined,
        );
        this.events.moved(next);
        this.saidSn = said;
        return true;
      }
    }
    this.saidSn = said;
    return !wasConfirmed;
  }

  /** Closes the journal. */
  async close(): Promise<void> {
    await this.current?.journal.close();
  }
}
