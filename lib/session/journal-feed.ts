/** A position in a Journal's change feed. */
export interface JournalCursor {
  generation: number;
  seq: number;
}

/** Changes the feed keeps at least (a reader further behind starts over). */
const FEED_MAX = 4096;

/**
 * A Journal's change feed, for readers that keep figures up to date (the
 * operator tools' day totals): every change to the in-memory view, numbered;
 * a reader asks what changed since its last cursor and folds in only that.
 * Compaction (entries leaving memory) starts a new generation: readers of
 * the old one start over.
 */
export class JournalFeed<Entry> {
  private changed: Entry[] = [];
  private seq = 0;
  private generation = 0;

  /** Where the feed is now: pass it to since() later. */
  get cursor(): JournalCursor {
    return { generation: this.generation, seq: this.seq };
  }

  push(entry: Entry): void {
    this.seq++;
    this.changed.push(entry);
    if (this.changed.length > 2 * FEED_MAX) this.changed = this.changed.slice(-FEED_MAX);
  }

  /** Entries left memory: readers start over. */
  reset(): void {
    this.generation++;
    this.changed = [];
  }

  /**
   * The entries changed since `cursor` (as changed then, oldest change
   * first: a reader takes each key's last), and the cursor to ask from next;
   * undefined when the feed no longer reaches back that far or is of another
   * generation (the reader then starts over from Journal.all()).
   */
  since(cursor: JournalCursor): { entries: Entry[]; cursor: JournalCursor } | undefined {
    const behind = this.seq - cursor.seq;
    if (cursor.generation !== this.generation || behind < 0 || behind > this.changed.length) return undefined;
    return { entries: this.changed.slice(this.changed.length - behind), cursor: this.cursor };
  }
}
