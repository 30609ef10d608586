/**
 * The API's event history: the last events, each with its SSE id, kept in a
 * ring bounded by a count and by bytes, for resuming streams
 * (`Last-Event-ID`, `?since=`). With a {@linkcode HistoryStore} the ids
 * continue from the journal's newest and a resume that reaches back beyond
 * the ring reads the journal, across restarts.
 *
 * @module
 */

/** One kept event. */
export interface HistoryEntry {
  /** Its SSE id (increasing by one per event; durable with a journal). */
  id: number;
  /** Its tag (for server-side filters). */
  tag: string;
  /** Its SSE text, `tag:`, `data:` and `id:` lines and the blank line, UTF-8. */
  sse: Uint8Array;
}

/** Where a durable history keeps its events (`HistoryJournal` in history_journal.ts). */
export interface HistoryStore {
  /** The newest id stored; 0 when empty. */
  readonly lastId: number;
  /** Stores events, ids increasing from `lastId + 1`. */
  append(entries: readonly HistoryEntry[]): void;
  /** The newest stored events after `afterId` that fit in `maxBytes`. */
  read(afterId: number, maxBytes: number): Resume;
  /** Closes the store. */
  close(): void;
}

/** What a resume from an id finds in the history. */
export interface Resume {
  /** The kept events after the id, oldest first. */
  entries: HistoryEntry[];
  /**
   * How many events after the id are no longer kept: `0` when nothing was
   * lost, `null` when the id is unknown to this process (newer than any id
   * it gave: the client was served by an earlier run of the API).
   */
  missed: number | null;
}

/**
 * A bounded ring of events with consecutive ids.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * const history = new History(2, 1 << 20);
 * for (const id of [1, 2, 3]) history.push({ id, tag: "t", sse: new Uint8Array(10) });
 * history.since(0); // { entries: [ids 2, 3], missed: 1 }
 * ```
 */
export class History {
  readonly #capacity: number;
  readonly #maxBytes: number;
  readonly #ring: (HistoryEntry | undefined)[];
  #head = 0; // index of the oldest entry
  #length = 0;
  #bytes = 0;
  #lastId = 0;
  readonly #journal: HistoryStore | null;
  #unwritten: HistoryEntry[] = [];
  #onJournalError: ((err: unknown) => void) | null;

  /**
   * Keeps at most `capacity` events and `maxBytes` bytes of SSE text in
   * memory, and with `journal` every event on disk too.
   */
  constructor(
    capacity: number,
    maxBytes: number,
    journal: HistoryStore | null = null,
    onJournalError: ((err: unknown) => void) | null = null,
  ) {
    this.#capacity = capacity;
    this.#maxBytes = maxBytes;
    this.#ring = new Array(capacity);
    this.#journal = journal;
    this.#onJournalError = onJournalError;
    this.#lastId = journal?.lastId ?? 0;
  }

  /** The journal, when the history is durable. */
  get journal(): HistoryStore | null {
    return this.#journal;
  }

  /** Number of kept events. */
  get length(): number {
    return this.#length;
  }

  /** Bytes of SSE text kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The newest id given (kept or not); 0 before the first event. */
  get lastId(): number {
    return this.#lastId;
  }

  /** Adds the newest event (its id must be the previous id + 1), evicting the oldest. */
  push(entry: HistoryEntry): void {
    this.#lastId = entry.id;
    if (this.#journal !== null) this.#unwritten.push(entry);
    if (this.#capacity === 0) return;
    if (this.#length === this.#capacity) this.#dropOldest();
    this.#ring[(this.#head + this.#length) % this.#capacity] = entry;
    this.#length++;
    this.#bytes += entry.sse.length;
    while (this.#bytes > this.#maxBytes && this.#length > 0) this.#dropOldest();
  }

  /**
   * Writes the events pushed since the last call to the journal, in one
   * transaction. A failed write is reported once to `onJournalError`; the
   * events stay in memory.
   */
  flush(): void {
    if (this.#unwritten.length === 0 || this.#journal === null) return;
    const entries = this.#unwritten;
    this.#unwritten = [];
    try {
      this.#journal.append(entries);
    } catch (err) {
      this.#onJournalError?.(err);
      this.#onJournalError = null;
    }
  }

  /** The kept events with ids above `id`, and how many such events were evicted. */
  since(id: number): Resume {
    if (id > this.#lastId) return { entries: this.#slice(0), missed: null };
    const oldest = this.#lastId - this.#length + 1; // id of the oldest kept event
    if (this.#journal !== null && id + 1 < oldest) {
      this.flush();
      return this.#journal.read(id, this.#maxBytes);
    }
    const skip = Math.max(0, id + 1 - oldest);
    return { entries: this.#slice(skip), missed: Math.max(0, oldest - id - 1) };
  }

  #slice(skip: number): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = skip; i < this.#length; i++) {
      out.push(this.#ring[(this.#head + i) % this.#capacity]!);
    }
    return out;
  }

  #dropOldest(): void {
    const entry = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#length--;
    this.#bytes -= entry.sse.length;
  }
}
