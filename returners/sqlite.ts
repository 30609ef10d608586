/**
 * The embedded `sqlite` returner, saltbus's default `master_job_cache`: one
 * SQLite file (`<cachedir>/job_cache.sqlite`, Deno's built-in `node:sqlite`)
 * in WAL mode, with Salt's `sqlite3` returner tables `jids` and
 * `salt_returns` plus a `salt_events` table with `pgjsonb`'s column names
 * (`id`, `tag`, `data`, `alter_time`, `master_id`). Writes are queued and
 * committed together, one transaction per batch: a batch is committed when
 * it holds `batchSize` writes, or on the next turn of the event loop.
 *
 * Where the rows differ from Salt's `sqlite3` returner: `full_ret` holds the
 * whole return load as JSON (as `pgjsonb` and `mysql` do, so `retcode` is
 * kept), `fun_args` is JSON rather than Python's `str()`, and a publish
 * load is stored with its `Minions`.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname, join } from "node:path";
import { defaultSockDir, type NodeKind } from "../bus/paths.ts";
import { genJid } from "../bus/jid.ts";
import { checkPrivateDir, checkPrivateFile } from "../transport/private_path.ts";
import {
  formatJidInstance,
  type FullEvent,
  type Returner,
  ReturnerError,
  type ReturnLoad,
  type StoredReturn,
} from "./returner.ts";

/** The store's file name inside `cachedir`. */
export const SQLITE_FILE = "job_cache.sqlite";

/** Salt's default `keep_jobs_seconds`: one day. */
export const DEFAULT_KEEP_JOBS_SECONDS = 86400;

/**
 * saltbus's default `cachedir`, beside the default `sock_dir` and usable
 * without root: `$XDG_RUNTIME_DIR/saltbus/cache/<node>`, else
 * `/tmp/saltbus-<uid>/cache/<node>`. Salt's is `/var/cache/salt/<node>`.
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "./sqlite.ts";
 * console.log(defaultCacheDir("master")); // e.g. "/run/user/1000/saltbus/cache/master"
 * ```
 */
export function defaultCacheDir(node: NodeKind): string {
  return join(dirname(defaultSockDir(node)), "cache", node);
}

/**
 * The `cachedir` a configuration names. Without one: `<sock_dir>/cache` when
 * the configuration sets its own `sock_dir` (so a master in a private
 * directory keeps its job cache there too), else {@linkcode defaultCacheDir}.
 *
 * @example
 * ```ts
 * import { cacheDirOf } from "./sqlite.ts";
 * cacheDirOf({ node: "master", cachedir: "/srv/cache" }); // "/srv/cache"
 * cacheDirOf({ node: "master", sock_dir: "/tmp/m" }); // "/tmp/m/cache"
 * ```
 */
export function cacheDirOf(
  opts: { node: NodeKind; cachedir?: unknown; sock_dir?: unknown },
): string {
  if (typeof opts.cachedir === "string" && opts.cachedir !== "") return opts.cachedir;
  if (typeof opts.sock_dir === "string" && opts.sock_dir !== defaultSockDir(opts.node)) {
    return join(opts.sock_dir, "cache");
  }
  return defaultCacheDir(opts.node);
}

/** Options of {@linkcode SqliteReturner.open}. */
export interface SqliteReturnerOptions {
  /** The directory of the store (Salt's `cachedir`); created 0700 and checked owner-only. */
  cachedir: string;
  /** `keep_jobs_seconds` for `clean_old_jobs` (0: keep everything). @default 86400 */
  keepJobsSeconds?: number;
  /** The `master_id` written with events (Salt writes the master's `id`). @default "master" */
  masterId?: string;
  /** Writes per transaction at most. @default 1000 */
  batchSize?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jids (jid TEXT PRIMARY KEY, load TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS salt_returns (
  fun TEXT KEY, jid TEXT KEY, id TEXT KEY, fun_args TEXT,
  date TEXT NOT NULL, full_ret TEXT NOT NULL, success TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_salt_returns_jid ON salt_returns (jid);
CREATE INDEX IF NOT EXISTS idx_salt_returns_id ON salt_returns (id);
CREATE INDEX IF NOT EXISTS idx_salt_returns_fun ON salt_returns (fun);
CREATE TABLE IF NOT EXISTS salt_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT NOT NULL, data TEXT NOT NULL,
  alter_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  master_id TEXT NOT NULL);
`;

interface Statements {
  saveLoad: StatementSync;
  insertReturn: StatementSync;
  insertEvent: StatementSync;
}

type Write = (s: Statements) => void;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Python's `str(datetime.now())`, local time: `YYYY-MM-DD HH:MM:SS.ffffff`. */
function localNow(): string {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    `${pad(d.getMilliseconds(), 3)}000`;
}

/** UTC `YYYY-MM-DD HH:MM:SS.SSS`, as SQLite's `strftime('%Y-%m-%d %H:%M:%f')`. */
function sqliteTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 23);
}

/** The (UTC) jid of a moment: jobs started before it sort below it. */
function jidAt(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}` +
    `${pad(d.getUTCMilliseconds(), 3)}000`;
}

/**
 * The embedded job cache and event store.
 *
 * @example
 * ```ts
 * import { SqliteReturner } from "./sqlite.ts";
 * await using store = await SqliteReturner.open({ cachedir: await Deno.makeTempDir() });
 * const jid = store.prep_jid();
 * await store.save_load(jid, { fun: "test.ping", tgt: "*", tgt_type: "glob" }, ["web1"]);
 * await store.returner({ id: "web1", jid, fun: "test.ping", return: true, retcode: 0, success: true });
 * console.log(await store.get_jid(jid)); // { web1: { return: true, retcode: 0, success: true } }
 * ```
 */
export class SqliteReturner implements Returner, AsyncDisposable {
  /** The returner's name. */
  readonly name = "sqlite";
  /** The database file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements: Statements;
  readonly #keepSeconds: number;
  readonly #masterId: string;
  readonly #batchSize: number;
  #pending: Write[] = [];
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  private constructor(path: string, db: DatabaseSync, options: SqliteReturnerOptions) {
    this.path = path;
    this.#db = db;
    this.#keepSeconds = options.keepJobsSeconds ?? DEFAULT_KEEP_JOBS_SECONDS;
    this.#masterId = options.masterId ?? "master";
    this.#batchSize = options.batchSize ?? 1000;
    this.#statements = {
      saveLoad: db.prepare(
        "INSERT INTO jids (jid, load) VALUES (?, ?) ON CONFLICT (jid) DO UPDATE SET load = excluded.load",
      ),
      insertReturn: db.prepare(
        "INSERT INTO salt_returns (fun, jid, id, fun_args, date, full_ret, success) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      insertEvent: db.prepare(
        "INSERT INTO salt_events (tag, data, alter_time, master_id) VALUES (?, ?, ?, ?)",
      ),
    };
  }

  /**
   * Opens (and creates) the store in `cachedir`: the directory is made 0700
   * and checked owner-only (as `sock_dir` is), the file is 0600.
   *
   * @throws {UnsafePathError} when another user owns or can write the directory or the file.
   * @throws {ReturnerError} when the database cannot be opened.
   */
  static async open(options: SqliteReturnerOptions): Promise<SqliteReturner> {
    const dir = await checkPrivateDir(options.cachedir, { create: true, option: "cachedir" });
    const path = join(dir, SQLITE_FILE);
    if (!(await checkPrivateFile(path, { option: "cachedir" }))) {
      const file = await Deno.open(path, { create: true, write: true, mode: 0o600 });
      file.close();
    }
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(SCHEMA);
      return new SqliteReturner(path, db, options);
    } catch (err) {
      db?.close();
      throw new ReturnerError(
        "sqlite",
        `cannot open ${path}: ${err instanceof Error ? err.message : err}; ` +
          `check the file or set cachedir`,
        { cause: err },
      );
    }
  }

  /** Writes waiting for their transaction. */
  get pending(): number {
    return this.#pending.length;
  }

  returner(ret: ReturnLoad): Promise<void> {
    const full = JSON.stringify(ret);
    const funArgs = JSON.stringify(ret.fun_args ?? []);
    const success = ret.success === undefined ? "" : ret.success ? "True" : "False";
    const date = localNow();
    return this.#write((s) =>
      s.insertReturn.run(
        String(ret.fun ?? ""),
        ret.jid,
        ret.id,
        funArgs,
        date,
        full,
        success,
      )
    );
  }

  event_return(events: readonly FullEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const now = sqliteTime(Date.now());
    const rows = events.map((e) => [String(e.tag ?? ""), JSON.stringify(e.data ?? {})]);
    const masterId = this.#masterId;
    return this.#write((s) => {
      for (const [tag, data] of rows) s.insertEvent.run(tag, data, now, masterId);
    });
  }

  save_load(
    jid: string,
    load: Record<string, unknown>,
    minions?: readonly string[],
  ): Promise<void> {
    const stored = minions === undefined ? load : { ...load, Minions: [...minions].sort() };
    const text = JSON.stringify(stored);
    return this.#write((s) => s.saveLoad.run(jid, text));
  }

  get_load(jid: string): Promise<Record<string, unknown>> {
    this.flush();
    const row = this.#db.prepare("SELECT load FROM jids WHERE jid = ?").get(jid) as
      | { load: string }
      | undefined;
    return Promise.resolve(row ? JSON.parse(row.load) : {});
  }

  get_jid(jid: string): Promise<Record<string, StoredReturn>> {
    this.flush();
    const rows = this.#db.prepare(
      "SELECT id, full_ret FROM salt_returns WHERE jid = ? ORDER BY rowid",
    )
      .all(jid) as { id: string; full_ret: string }[];
    const out: Record<string, StoredReturn> = {};
    for (const { id, full_ret } of rows) {
      const load = JSON.parse(full_ret) as Record<string, unknown>;
      const entry: StoredReturn = { return: load.return };
      if (typeof load.retcode === "number") entry.retcode = load.retcode;
      if (typeof load.success === "boolean") entry.success = load.success;
      if (typeof load.out === "string") entry.out = load.out;
      out[id] = entry;
    }
    return Promise.resolve(out);
  }

  get_jids(): Promise<Record<string, Record<string, unknown>>> {
    this.flush();
    const rows = this.#db.prepare("SELECT jid, load FROM jids ORDER BY jid").all() as {
      jid: string;
      load: string;
    }[];
    const out: Record<string, Record<string, unknown>> = {};
    for (const { jid, load } of rows) out[jid] = formatJidInstance(jid, JSON.parse(load));
    return Promise.resolve(out);
  }

  prep_jid(_nocache = false, passed_jid: string | null = null): string {
    return passed_jid ?? genJid();
  }

  clean_old_jobs(): Promise<number> {
    this.flush();
    if (!(this.#keepSeconds > 0)) return Promise.resolve(0);
    const cutoff = Date.now() - this.#keepSeconds * 1000;
    const jid = jidAt(cutoff);
    this.#db.exec("BEGIN");
    try {
      this.#db.prepare("DELETE FROM salt_returns WHERE jid < ?").run(jid);
      const removed = this.#db.prepare("DELETE FROM jids WHERE jid < ?").run(jid).changes;
      // alter_time grows with id: delete below the first id that is recent enough
      // (this reads only the rows it deletes; no index on alter_time to slow inserts).
      this.#db.prepare(
        "DELETE FROM salt_events WHERE id < coalesce(" +
          "(SELECT id FROM salt_events WHERE alter_time >= ? ORDER BY id LIMIT 1), " +
          "(SELECT max(id) + 1 FROM salt_events))",
      ).run(sqliteTime(cutoff));
      this.#db.exec("COMMIT");
      return Promise.resolve(Number(removed));
    } catch (err) {
      this.#db.exec("ROLLBACK");
      return Promise.reject(err);
    }
  }

  /** Commits the queued writes now, in one transaction per `batchSize`. */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#pending.length > 0) {
      const writes = this.#pending.splice(0, this.#batchSize);
      const waiters = this.#waiters.splice(0, writes.length);
      try {
        this.#db.exec("BEGIN");
        for (const write of writes) write(this.#statements);
        this.#db.exec("COMMIT");
      } catch (err) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // no transaction left to roll back
        }
        const error = new ReturnerError(
          "sqlite",
          `a batch of ${writes.length} write(s) to ${this.path} failed: ` +
            `${err instanceof Error ? err.message : err}`,
          { cause: err },
        );
        for (const w of waiters) w.reject(error);
        continue;
      }
      for (const w of waiters) w.resolve();
    }
  }

  /** Commits what is queued and closes the database. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.flush();
    this.#closed = true;
    this.#db.close();
    return Promise.resolve();
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #write(write: Write): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ReturnerError("sqlite", `${this.path} is closed`));
    }
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#pending.push(write);
    if (this.#pending.length >= this.#batchSize) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), 0);
    return done;
  }
}
