import { WonderError } from '../protocol';
import { deviceSnOf, type TerminalSession } from '../session';
import type { Ledger } from '../ledger';

/** How long the identity check after connecting may take (the health check's bound): payments and recovery wait behind it at most this. */
export const IDENTITY_CHECK_MS = 5_000;

/** What an answer carries of the terminal itself. */
interface AnswerLike {
  header?: { serverDeviceSN?: unknown };
  body?: unknown;
}

export interface DeviceIdentityEvents {
  /** The terminal's SN became known (or changed): its payments carry it, its open payments made elsewhere are this terminal's now. */
  moved(to: { sn: string; terminalId: string }): void;
  /** Another config node of this runtime has this SN: the same terminal configured twice. */
  duplicate(err: Error & { sn: string }): void;
}

export interface DeviceIdentityOptions {
  /** The ledger (shared by every terminal of the runtime); absent: nothing is recorded. */
  ledger?: Ledger;
  /** The terminal's place (see terminalIdentity): the name its payments are recorded under. */
  terminalId?: string;
  /** Learn the terminal's SN from its answers and record it (serial, LAN, cloud). */
  followDeviceSn?: boolean;
  /** The config node, and where the terminal is reached (as shown): recorded with its SN. */
  configNode?: string;
  address?: string;
  /** Whether another config node has this SN now (the same terminal twice). */
  snTaken?: (sn: string) => boolean;
  config: { transport: string };
}

/**
 * A terminal's own identity as its answers tell it: `device` (SN from every
 * answer's header, software version from DeviceInfo / Ack) and, for a real
 * terminal (serial, LAN, cloud), its serial number as data in the ledger: the
 * `terminals` table keeps which SN was last seen at which place, and each
 * payment carries the SN known when it began. A terminal sees the open
 * payments made under its place's name (a terminal swapped at the same address
 * sees the old one's, asked about, never resent) and those of its SN made
 * anywhere (an adapter under a new path).
 *
 * After each connect the Terminal asks who answers (a DeviceInfo, at most
 * IDENTITY_CHECK_MS) as the first job of its scheduler, so payments and
 * recovery wait behind it; when the terminal does not answer in that time a
 * payment goes ahead with the SN last seen at this place, and recovery waits
 * for the first answer (mayRecover).
 */
export class DeviceIdentity {
  readonly device: { sn?: string; softwareVersion?: string } = {};
  readonly ledger: Ledger | undefined;
  private readonly terminalId: string | undefined;
  private readonly follow: boolean;
  /** The SN last seen at this place in an earlier run (from the ledger), until one is confirmed. */
  private readonly knownSn: string | undefined;
  /** The SN confirmed by an answer since the last connect. */
  private confirmed = false;
  /** The header's serverDeviceSN as the answer that confirmed it said it. */
  private saidSn: unknown;
  private session: TerminalSession | undefined;
  /** Ask DeviceInfo after each connect (serial, LAN: another terminal may be behind the same port or address). */
  private checkOnConnect = false;

  /** Reads what the ledger knows of this place; a ledger that cannot be read is a configuration error naming the field. */
  static open(options: DeviceIdentityOptions, events: DeviceIdentityEvents): DeviceIdentity {
    try {
      const identity = new DeviceIdentity(options, events);
      // A cloud terminal is named by its device SN already: its answers confirm it, no DeviceInfo is asked for.
      identity.checkOnConnect = options.config.transport === 'serial' || options.config.transport === 'lan';
      return identity;
    } catch (cause) {
      throw new WonderError('E_VALIDATION', `the ledger cannot be read: ${(cause as Error).message}`, { cause, field: 'journal' });
    }
  }

  /** No ledger, no session (an unusable config). */
  static none(): DeviceIdentity {
    return new DeviceIdentity({ config: { transport: 'none' } }, { moved: () => undefined, duplicate: () => undefined });
  }

  constructor(
    private readonly options: DeviceIdentityOptions,
    private readonly events: DeviceIdentityEvents,
  ) {
    this.ledger = options.ledger;
    this.terminalId = options.terminalId;
    this.follow = options.followDeviceSn === true && options.terminalId !== undefined;
    this.knownSn = this.follow && this.ledger !== undefined ? this.ledger.knownSn(options.terminalId!) : undefined;
  }

  get journal(): Ledger | undefined {
    return this.ledger;
  }

  /** What the session is built with: the ledger, the payments' terminal name and the identity recorded on them. */
  sessionOptions(fallbackTerminalId: string | undefined): { journal?: Ledger; terminalId?: string; identity?: { configNode?: string; address?: string; deviceSn?: string } } {
    const terminalId = this.terminalId ?? fallbackTerminalId;
    const identity = {
      ...(this.options.configNode !== undefined ? { configNode: this.options.configNode } : {}),
      ...(this.options.address !== undefined && this.options.address !== '' ? { address: this.options.address } : {}),
      ...(this.knownSn !== undefined ? { deviceSn: this.knownSn } : {}),
    };
    return { ...(this.ledger !== undefined ? { journal: this.ledger } : {}), ...(terminalId !== undefined ? { terminalId } : {}), identity };
  }

  /** The session whose payments carry the SN (set once it exists). */
  attach(session: TerminalSession): this {
    this.session = session;
    return this;
  }

  /** Whether recovery may ask the terminal now: not before it has said who it is when an SN was seen at this place before. */
  get mayRecover(): boolean {
    return this.confirmed || this.knownSn === undefined || !this.checkOnConnect;
  }

  /**
   * A (re)connect: the terminal behind the line may be another one. `check`
   * (the Terminal's identity job, bounded) asks, and gives the answer to
   * observe() before it ends, so that what waits behind it sees the SN.
   */
  connected(check: () => Promise<unknown>): void {
    this.confirmed = false;
    if (!this.follow || this.ledger === undefined || !this.checkOnConnect) return;
    check().catch(() => undefined);
  }

  /** Learns from an answer; records a new SN. Returns true when the SN was confirmed by this answer. */
  observe(answer: unknown): boolean {
    const a = answer as AnswerLike | undefined;
    const version = (a?.body as { softwareVersion?: unknown } | undefined)?.softwareVersion;
    if (typeof version === 'string' && version !== '') this.device.softwareVersion = version.slice(0, 64);
    const said = a?.header?.serverDeviceSN;
    // The usual answer: the SN already confirmed in this connection, as it was said then.
    if (this.confirmed && said === this.saidSn) return false;
    const sn = deviceSnOf(said);
    if (sn === undefined) return false;
    if (this.follow && this.options.snTaken?.(sn) === true) {
      const err = Object.assign(new Error(`another terminal config node already uses the terminal with serial number ${sn}`), { sn });
      this.events.duplicate(err);
      return false;
    }
    const before = this.device.sn ?? this.knownSn;
    this.device.sn = sn;
    const wasConfirmed = this.confirmed;
    this.confirmed = true;
    this.saidSn = said;
    if (this.follow && this.ledger !== undefined && this.session !== undefined) {
      this.session.setDeviceSn(sn);
      if (sn !== before || !wasConfirmed) {
        this.ledger
          .rememberTerminal({ address: this.terminalId!, deviceSn: sn, ...(this.options.configNode !== undefined ? { configNode: this.options.configNode } : {}), transport: this.options.config.transport })
          .catch(() => undefined);
      }
      if (sn !== before) {
        this.events.moved({ sn, terminalId: this.terminalId! });
        return true;
      }
    }
    return !wasConfirmed;
  }

  /** Gives the ledger back (the last terminal of the runtime closes it). */
  async close(): Promise<void> {
    await this.ledger?.close();
  }
}
