/**
 * The API's durable event history: every event the API streams, with its
 * SSE id, in a SQLite file (`api_history_file`, by default
 * `<cachedir>/api_history.sqlite` while the job cache is on), so that
 * `Last-Event-ID` resumes across restarts of the API or the master. Ids
 * continue from the file's newest, so an id is the event's durable
 * sequence. The file keeps the newest `api_history_size` events.
 *
 * One API owns a file: it is opened in SQLite's exclusive locking mode, and a
 * second API on the same file runs without one (and says so).
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { checkPrivateDir, checkPrivateFile } from "../transport/private_path.ts";
import type { HistoryEntry, HistoryStore, Resume } from "./history.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS api_events (
  id INTEGER PRIMARY KEY,
  tag TEXT NOT NULL,
  sse BLOB NOT NULL
)`;

/**
 * The durable history in one SQLite file.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 * import { HistoryJournal } from "./history_journal.ts";
 * const dir = await Deno.makeTempDir();
 * const journal = await HistoryJournal.open(join(dir, "h.sqlite"), 1000);
 * journal.append([{ id: journal.lastId + 1, tag: "t", sse: new TextEncoder().encode("…") }]);
 * journal.read(0, 1 << 20).entries.length; // 1
 * journal.close();
 * ```
 */
export class HistoryJournal implements HistoryStore {
  readonly #db: DatabaseSync;
  readonly #keep: number;
  readonly #insert: StatementSync;
  readonly #newest: StatementSync;
  #lastId: number;
  #oldestId: number;

  private constructor(db: DatabaseSync, keep: number) {
    this.#db = db;
    this.#keep = keep;
    this.#insert = db.prepare("INSERT OR REPLACE INTO api_events (id, tag, sse) VALUES (?, ?, ?)");
    this.#newest = db.prepare(
      "SELECT id, tag, sse FROM api_events WHERE id > ? ORDER BY id DESC LIMIT ?",
    );
    const row = db.prepare("SELECT MIN(id) AS lo, MAX(id) AS hi FROM api_events").get() as {
      lo: number | null;
      hi: number | null;
    };
    this.#lastId = Number(row.hi ?? 0);
    this.#oldestId = Number(row.lo ?? this.#lastId + 1);
  }

  /**
   * Opens (and creates) the file: its directory 0700 and owner-only, the
   * file 0600, locked for this process.
   *
   * @param path The SQLite file.
   * @param keep How many of the newest events to keep (`api_history_size`).
   * @throws {Error} naming the file when it cannot be opened or is locked by another API.
   */
  static async open(path: string, keep: number): Promise<HistoryJournal> {
    await checkPrivateDir(dirname(path), { create: true, option: "api_history_file" });
    if (!(await checkPrivateFile(path, { option: "api_history_file" }))) {
      (await Deno.open(path, { create: true, write: true, mode: 0o600 })).close();
    }
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      // Takes the exclusive lock now, so a second API fails here and not later.
      db.exec("BEGIN IMMEDIATE");
      db.exec(SCHEMA);
      db.exec("COMMIT");
      return new HistoryJournal(db, keep);
    } catch (err) {
      db?.close();
      throw new Error(
        `cannot open api_history_file ${path}: ${err instanceof Error ? err.message : err}` +
          " (is another API using it?)",
        { cause: err },
      );
    }
  }

  /** The newest id stored; 0 when empty. */
  get lastId(): number {
    return this.#lastId;
  }

  /** The oldest id stored (`lastId + 1` when empty). */
  get oldestId(): number {
    return this.#oldestId;
  }

  /** Stores events (ids increasing from `lastId + 1`) in one transaction, and trims the oldest. */
  append(entries: readonly HistoryEntry[]): void {
    if (entries.length === 0) return;
    const db = this.#db;
    db.exec("BEGIN");
    try {
      for (const e of entries) this.#insert.run(e.id, e.tag, e.sse);
      const last = entries[entries.length - 1].id;
      if (this.#oldestId > this.#lastId) this.#oldestId = entries[0].id;
      this.#lastId = last;
      // Trim in steps of a tenth, so deletes stay rare and large.
      if (this.#lastId - this.#oldestId + 1 > this.#keep + Math.ceil(this.#keep / 10)) {
        const oldest = this.#lastId - this.#keep + 1;
        db.prepare("DELETE FROM api_events WHERE id < ?").run(oldest);
        this.#oldestId = oldest;
      }
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }

  /**
   * The stored events after `afterId`: the newest that fit in `maxBytes` of
   * SSE text (and `api_history_size` in count), oldest first, and how many
   * after `afterId` are not among them.
   */
  read(afterId: number, maxBytes: number): Resume {
    const rows = this.#newest.all(afterId, this.#keep) as {
      id: number;
      tag: string;
      sse: Uint8Array;
    }[];
    const entries: HistoryEntry[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (bytes + row.sse.length > maxBytes) break;
      bytes += row.sse.length;
      entries.push({ id: Number(row.id), tag: row.tag, sse: row.sse });
    }
    entries.reverse();
    const first = entries[0]?.id ?? this.#lastId + 1;
    return { entries, missed: Math.max(0, first - afterId - 1) };
  }

  /** Closes the file (releasing its lock). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
