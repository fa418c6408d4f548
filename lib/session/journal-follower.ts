import * as fs from 'node:fs';
import { Journal } from './journal';
import { JournalLock } from './journal-lock';
import { moveJournalArchives } from './journal-archive';
import { journalPathOf, knownSn, latestEntries, mergeJournalEntries, rememberSn, retireJournalFile, snIdentity } from './journal-identity';

/** The journal a terminal writes now, and its name in it. */
export interface FollowedJournal {
  journal: Journal;
  /** The entries' `terminal`: the place (port, host, cloud device) or `sn-<SN>`. */
  terminalId: string;
  /** The SN whose journal this is (from the map at start, or learnt), if any. */
  sn?: string;
}

/**
 * Keeps a terminal's journal following its serial number (see
 * journal-identity.ts). `start()` opens the journal a restart should use: the
 * SN journal of the SN last seen at this place, else the place's own.
 * `follow(sn, current)` moves to the SN's journal, synchronously: every entry
 * of the current journal's in-memory view (which is ahead of its file) is
 * appended to the SN journal and fsync'd before anything else can run, so a
 * payment begun in the old journal has its line on disk in the new one
 * before it can leave; the caller then hands the new journal to the session
 * and closes the old one (and, when it was the place's, `retire`s its file).
 */
export class JournalFollower {
  constructor(
    readonly dir: string,
    /** The place's identity (terminalIdentity): `serial-/dev/…`, `lan-host-port`, `cloud-…`. */
    readonly place: string,
  ) {}

  get placeFile(): string {
    return journalPathOf(this.dir, this.place);
  }

  /** Opens the journal to start with. Throws JournalLockedError when another live writer holds it. */
  start(): FollowedJournal {
    const sn = knownSn(this.dir, this.place);
    if (sn === undefined) return { journal: new Journal(this.placeFile), terminalId: this.place };
    return { journal: this.openSn(sn, undefined), terminalId: snIdentity(sn), sn };
  }

  /**
   * Moves to the journal of `sn` (undefined when `current` is that one).
   * Throws JournalLockedError, having changed nothing, when another live
   * writer (another config node on the same terminal) holds it.
   */
  follow(sn: string, current: FollowedJournal): FollowedJournal | undefined {
    if (current.sn === sn) return undefined;
    const fromPlace = current.sn === undefined;
    const journal = this.openSn(sn, fromPlace ? current : undefined);
    try {
      rememberSn(this.dir, this.place, sn);
    } catch {
      // The map only lets a restart open the SN journal early: without it, a restart starts in the place's journal and moves again.
    }
    return { journal, terminalId: snIdentity(sn), sn };
  }

  /**
   * Removes the place's own journal once it has been closed (everything in it
   * is in the SN journal), and moves its archives to the SN journal's.
   */
  retirePlaceJournal(sn: string): void {
    retireJournalFile(this.placeFile);
    moveJournalArchives(this.placeFile, journalPathOf(this.dir, snIdentity(sn)), { fromTerminal: this.place, toTerminal: snIdentity(sn) });
  }

  /**
   * Takes the SN journal's lock, appends what `live` (the open place journal)
   * or else the place's file on disk holds, and opens it. The place's file on
   * disk (left by an earlier run, or by a crash between merge and removal) is
   * merged under its own lock and removed.
   */
  private openSn(sn: string, live: FollowedJournal | undefined): Journal {
    const file = journalPathOf(this.dir, snIdentity(sn));
    const lock = JournalLock.acquire(file);
    try {
      const rename = { fromTerminal: this.place, toTerminal: snIdentity(sn) };
      if (live !== undefined) {
        mergeJournalEntries(live.journal.all(), file, rename);
      } else if (fs.existsSync(this.placeFile)) {
        const placeLock = JournalLock.acquire(this.placeFile);
        try {
          mergeJournalEntries(latestEntries(this.placeFile).values(), file, rename);
          retireJournalFile(this.placeFile);
          moveJournalArchives(this.placeFile, file, rename);
        } finally {
          placeLock.release();
        }
      }
      return new Journal(file, { lock });
    } catch (err) {
      lock.release();
      throw err;
    }
  }
}
