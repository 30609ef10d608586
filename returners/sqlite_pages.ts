/**
 * Reading the `sqlite` job cache a page at a time, for `GET /jobs` over a
 * big cache: Salt's `jobs.list_jobs` loads every job first and runs out of
 * memory (#50931); these pages hold `pageSize` jobs at most. The file is
 * opened read-only, beside the master's own connection (WAL mode lets both
 * read), and a missing file is an empty cache.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { formatJidInstance } from "./returner.ts";
import { cacheDirOf, SQLITE_FILE } from "./sqlite.ts";

/** Options of {@linkcode iterateJobs}. */
export interface JobPagesOptions {
  /** Only jobs after this jid (exclusive). */
  after?: string;
  /** At most this many jobs (default: all). */
  limit?: number;
  /** Jobs read per query. @default 1000 */
  pageSize?: number;
}

/**
 * Yields `[jid, record]` (Salt's `format_jid_instance`, as `get_jids`
 * gives) for the stored jobs in jid order, one page per query.
 *
 * @example
 * ```ts
 * import { iterateJobs } from "./sqlite_pages.ts";
 * for (const [jid, job] of iterateJobs({ node: "master", cachedir: "/var/cache/saltbus" })) {
 *   console.log(jid, job.Function);
 * }
 * ```
 */
export function* iterateJobs(
  opts: { node: "master" | "minion"; cachedir?: unknown; sock_dir?: unknown },
  options: JobPagesOptions = {},
): Generator<[string, Record<string, unknown>]> {
  const path = join(cacheDirOf(opts), SQLITE_FILE);
  try {
    Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const page = db.prepare("SELECT jid, load FROM jids WHERE jid > ? ORDER BY jid LIMIT ?");
    const pageSize = Math.max(1, options.pageSize ?? 1000);
    let left = options.limit ?? Infinity;
    let after = options.after ?? "";
    while (left > 0) {
      const rows = page.all(after, Math.min(pageSize, left)) as { jid: string; load: string }[];
      for (const { jid, load } of rows) yield [jid, formatJidInstance(jid, JSON.parse(load))];
      if (rows.length < pageSize) return;
      left -= rows.length;
      after = rows[rows.length - 1].jid;
    }
  } finally {
    db.close();
  }
}

/**
 * The minions a stored job was published to (`Minions` of its load), or
 * `null` when the job cache has no such job (or no file).
 *
 * @example
 * ```ts
 * import { storedJobMinions } from "./sqlite_pages.ts";
 * storedJobMinions({ node: "master", cachedir: "/var/cache/saltbus" }, "20261202010203040506");
 * // ["web1", "web2"]
 * ```
 */
export function storedJobMinions(
  opts: { node: "master" | "minion"; cachedir?: unknown; sock_dir?: unknown },
  jid: string,
): string[] | null {
  const path = join(cacheDirOf(opts), SQLITE_FILE);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch {
    return null;
  }
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const row = db.prepare("SELECT load FROM jids WHERE jid = ?").get(jid) as
      | { load: string }
      | undefined;
    if (!row) return null;
    const minions = (JSON.parse(row.load) as { Minions?: unknown }).Minions;
    return Array.isArray(minions) ? minions.map(String) : [];
  } catch {
    return null;
  } finally {
    db.close();
  }
}
