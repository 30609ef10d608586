/**
 * The `pgjsonb` returner (spec §14.4): PostgreSQL with Salt's exact schema
 * (tables `jids`, `salt_returns`, `salt_events`, the sequence
 * `seq_salt_events_id` and the indexes of Salt's docstring), so existing Salt
 * dashboards and queries work unchanged. Beyond Salt, the schema is created
 * when it is missing (under an advisory lock, so a master and its minions
 * may start together).
 *
 * The client is `npm:postgres` (porsager's postgres.js): pure JavaScript
 * (only `--allow-net`, plus `--allow-env`/`--allow-read` it asks nothing
 * else), pipelines queries on one connection, reconnects on its own after
 * the server comes back, and inserts a batch of events in one statement
 * (`unnest` of arrays) and one round trip.
 *
 * Options, as Salt reads them: `returner.pgjsonb.host` (`localhost`),
 * `.port` (`5432`), `.user` (`salt`), `.pass` (`salt`), `.db` (`salt`),
 * and `.sslmode`, `.sslcert`, `.sslkey`, `.sslrootcert` (unset); flat dotted
 * keys or a nested `returner.pgjsonb:` mapping.
 *
 * @module
 */
import postgres from "npm:postgres@3.4.5";
import { genJid } from "../bus/jid.ts";
import { isMapping } from "../bus/mapping.ts";
import { jsonbText } from "./json_text.ts";
import {
  formatJidInstance,
  type FullEvent,
  type Returner,
  ReturnerError,
  type ReturnLoad,
  type StoredReturn,
} from "./returner.ts";

/** Salt's pgjsonb schema, each statement idempotent. */
export const PGJSONB_SCHEMA: readonly string[] = Object.freeze([
  `CREATE TABLE IF NOT EXISTS jids (
     jid varchar(255) NOT NULL primary key,
     load jsonb NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS idx_jids_jsonb ON jids USING gin (load) WITH (fastupdate=on)`,
  `CREATE TABLE IF NOT EXISTS salt_returns (
     fun varchar(50) NOT NULL,
     jid varchar(255) NOT NULL,
     return jsonb NOT NULL,
     id varchar(255) NOT NULL,
     success varchar(10) NOT NULL,
     full_ret jsonb NOT NULL,
     alter_time TIMESTAMP WITH TIME ZONE DEFAULT NOW())`,
  `CREATE INDEX IF NOT EXISTS idx_salt_returns_id ON salt_returns (id)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_returns_jid ON salt_returns (jid)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_returns_fun ON salt_returns (fun)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_returns_return ON salt_returns
     USING gin (return) WITH (fastupdate=on)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_returns_full_ret ON salt_returns
     USING gin (full_ret) WITH (fastupdate=on)`,
  `CREATE SEQUENCE IF NOT EXISTS seq_salt_events_id`,
  `CREATE TABLE IF NOT EXISTS salt_events (
     id BIGINT NOT NULL UNIQUE DEFAULT nextval('seq_salt_events_id'),
     tag varchar(255) NOT NULL,
     data jsonb NOT NULL,
     alter_time TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
     master_id varchar(255) NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_events_tag ON salt_events (tag)`,
  `CREATE INDEX IF NOT EXISTS idx_salt_events_data ON salt_events
     USING gin (data) WITH (fastupdate=on)`,
]);

/** The advisory lock key that serialises schema creation. */
const SCHEMA_LOCK = 0x5a17b05;

/** Where and how to connect: Salt's `returner.pgjsonb.*` options, resolved. */
export interface PgjsonbOptions {
  /** @default "localhost" */
  host: string;
  /** @default 5432 */
  port: number;
  /** @default "salt" */
  user: string;
  /** @default "salt" */
  pass: string;
  /** @default "salt" */
  db: string;
  /** `disable`, `prefer`, `require`, `verify-ca`, `verify-full` (unset: no TLS). */
  sslmode?: string;
  /** Client certificate file. */
  sslcert?: string;
  /** Client key file. */
  sslkey?: string;
  /** CA certificate file. */
  sslrootcert?: string;
}

/**
 * Salt's `returner.pgjsonb.*` options from a configuration: flat dotted keys
 * (`returner.pgjsonb.host`) or a nested `returner.pgjsonb: {host: …}`
 * mapping; empty values count as unset, as in Salt.
 *
 * @example
 * ```ts
 * import { pgjsonbOptions } from "./pgjsonb.ts";
 * pgjsonbOptions({ "returner.pgjsonb.host": "db1", "returner.pgjsonb.port": 6432 });
 * // { host: "db1", port: 6432, user: "salt", pass: "salt", db: "salt" }
 * ```
 */
export function pgjsonbOptions(opts: Record<string, unknown>): PgjsonbOptions {
  const nested = isMapping(opts["returner.pgjsonb"]) ? opts["returner.pgjsonb"] : {};
  const returnerBlock = isMapping(opts.returner) && isMapping(opts.returner.pgjsonb)
    ? opts.returner.pgjsonb
    : {};
  const get = (attr: string): string | undefined => {
    for (const v of [opts[`returner.pgjsonb.${attr}`], nested[attr], returnerBlock[attr]]) {
      if (v !== undefined && v !== null && v !== "") return String(v);
    }
    return undefined;
  };
  const out: PgjsonbOptions = {
    host: get("host") ?? "localhost",
    port: Number(get("port") ?? 5432),
    user: get("user") ?? "salt",
    pass: get("pass") ?? "salt",
    db: get("db") ?? "salt",
  };
  for (const k of ["sslmode", "sslcert", "sslkey", "sslrootcert"] as const) {
    const v = get(k);
    if (v !== undefined) out[k] = v;
  }
  if (!Number.isInteger(out.port) || out.port <= 0 || out.port > 65535) {
    throw new ReturnerError("pgjsonb", `returner.pgjsonb.port: not a port: ${get("port")}`);
  }
  return out;
}

async function tlsOption(o: PgjsonbOptions): Promise<unknown> {
  if (o.sslmode === undefined || o.sslmode === "disable") return false;
  const read = async (file?: string) => file ? await Deno.readTextFile(file) : undefined;
  const ca = await read(o.sslrootcert);
  const cert = await read(o.sslcert);
  const key = await read(o.sslkey);
  const verify = o.sslmode === "verify-ca" || o.sslmode === "verify-full";
  if (o.sslmode === "prefer" || o.sslmode === "allow") return "prefer";
  return {
    rejectUnauthorized: verify,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The (UTC) jid of a moment. */
function jidAt(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:TZ.]/g, "").slice(0, 17) + "000";
}

/** Salt's `success` column: psycopg2 writes a Python bool as `true`/`false`. */
function successText(ret: ReturnLoad): string {
  return ret.success === true ? "true" : "false";
}

/** A tag as the `varchar(255)` column takes it. */
function tag255(tag: unknown): string {
  const t = String(tag ?? "");
  return t.length > 255 ? t.slice(0, 255) : t;
}

/**
 * The `pgjsonb` returner. Opening does not connect: the first write does,
 * creating the schema; while the server is unreachable every call rejects
 * with a {@linkcode ReturnerError} (the event returner keeps and retries what
 * failed), and the next call after it is back reconnects.
 *
 * @example
 * ```ts
 * import { PgjsonbReturner } from "./pgjsonb.ts";
 * const store = await PgjsonbReturner.open({ "returner.pgjsonb.host": "127.0.0.1", "returner.pgjsonb.db": "salt" });
 * await store.event_return([{ tag: "myco/hello", data: { n: 1 } }]);
 * await store.close();
 * ```
 */
export class PgjsonbReturner implements Returner, AsyncDisposable {
  /** The returner's name. */
  readonly name = "pgjsonb";
  /** Where it connects, for messages (`host:port/db`). */
  readonly where: string;
  readonly #sql: postgres.Sql;
  readonly #masterId: string;
  readonly #keepSeconds: number;
  readonly #archive: boolean;
  #schema: Promise<void> | null = null;
  #closed = false;

  private constructor(
    sql: postgres.Sql,
    where: string,
    settings: { masterId: string; keepSeconds: number; archive: boolean },
  ) {
    this.#sql = sql;
    this.where = where;
    this.#masterId = settings.masterId;
    this.#keepSeconds = settings.keepSeconds;
    this.#archive = settings.archive;
  }

  /**
   * A returner for the configuration's `returner.pgjsonb.*` options; `id`
   * is the `master_id` of events, `keep_jobs_seconds` and `archive_jobs`
   * drive `clean_old_jobs`.
   *
   * @throws {ReturnerError} for a bad option or an unreadable certificate file.
   */
  static async open(opts: Record<string, unknown>): Promise<PgjsonbReturner> {
    const o = pgjsonbOptions(opts);
    let ssl: unknown;
    try {
      ssl = await tlsOption(o);
    } catch (err) {
      throw new ReturnerError("pgjsonb", `returner.pgjsonb ssl files: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const sql = postgres({
      host: o.host,
      port: o.port,
      user: o.user,
      password: o.pass,
      database: o.db,
      ssl: ssl as false,
      max: 4,
      connect_timeout: 5,
      idle_timeout: 60,
      onnotice: () => {},
    });
    const keep = opts.keep_jobs_seconds;
    return new PgjsonbReturner(sql, `${o.host}:${o.port}/${o.db}`, {
      masterId: typeof opts.id === "string" ? opts.id : "master",
      keepSeconds: typeof keep === "number" ? keep : 86400,
      archive: opts.archive_jobs === true,
    });
  }

  async returner(ret: ReturnLoad): Promise<void> {
    await this.#run(
      "store a return",
      (sql) =>
        sql`INSERT INTO salt_returns (fun, jid, return, id, success, full_ret)
          VALUES (${String(ret.fun ?? "").slice(0, 50)}, ${ret.jid},
                  ${jsonbText(ret.return ?? null)}::text::jsonb, ${ret.id}, ${successText(ret)},
                  ${jsonbText(ret)}::text::jsonb)`,
    );
  }

  async event_return(events: readonly FullEvent[]): Promise<void> {
    if (events.length === 0) return;
    const tags = events.map((e) => tag255(e.tag));
    const data = events.map((e) => jsonbText(e.data ?? {}));
    const master = this.#masterId;
    await this.#run(
      `store ${events.length} event(s)`,
      (sql) =>
        sql`INSERT INTO salt_events (tag, data, master_id)
          SELECT t, d::jsonb, ${master} FROM unnest(${tags}::text[], ${data}::text[]) AS u(t, d)`,
    );
  }

  async save_load(
    jid: string,
    load: Record<string, unknown>,
    minions?: readonly string[],
  ): Promise<void> {
    const stored = minions === undefined ? load : { ...load, Minions: [...minions].sort() };
    await this.#run(
      "save a load",
      (sql) =>
        sql`INSERT INTO jids (jid, load) VALUES (${jid}, ${jsonbText(stored)}::text::jsonb)
          ON CONFLICT (jid) DO UPDATE SET load = EXCLUDED.load`,
    );
  }

  async get_load(jid: string): Promise<Record<string, unknown>> {
    const rows = await this.#run(
      "read a load",
      (sql) => sql`SELECT load::text AS load FROM jids WHERE jid = ${jid}`,
    );
    return rows.length > 0 ? JSON.parse(String(rows[0].load)) : {};
  }

  async get_jid(jid: string): Promise<Record<string, StoredReturn>> {
    const rows = await this.#run(
      "read returns",
      (sql) =>
        sql`SELECT id, full_ret::text AS full_ret FROM salt_returns WHERE jid = ${jid}
          ORDER BY alter_time`,
    );
    const out: Record<string, StoredReturn> = {};
    for (const row of rows) {
      const load = JSON.parse(String(row.full_ret)) as Record<string, unknown>;
      const entry: StoredReturn = { return: load.return };
      if (typeof load.retcode === "number") entry.retcode = load.retcode;
      if (typeof load.success === "boolean") entry.success = load.success;
      if (typeof load.out === "string") entry.out = load.out;
      out[String(row.id)] = entry;
    }
    return out;
  }

  async get_jids(): Promise<Record<string, Record<string, unknown>>> {
    const rows = await this.#run(
      "list jobs",
      (sql) => sql`SELECT jid, load::text AS load FROM jids ORDER BY jid`,
    );
    const out: Record<string, Record<string, unknown>> = {};
    for (const row of rows) {
      out[String(row.jid)] = formatJidInstance(String(row.jid), JSON.parse(String(row.load)));
    }
    return out;
  }

  prep_jid(_nocache = false, passed_jid: string | null = null): string {
    return passed_jid ?? genJid();
  }

  async clean_old_jobs(): Promise<number> {
    if (!(this.#keepSeconds > 0)) return 0;
    const seconds = Math.floor(this.#keepSeconds);
    const oldJid = jidAt(Date.now() - seconds * 1000);
    return await this.#run("clean old jobs", async (sql) => {
      return await sql.begin(async (tx) => {
        const stamp = new Date(Date.now() - seconds * 1000);
        if (this.#archive) {
          for (const t of ["jids", "salt_returns", "salt_events"]) {
            await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${t}_archive (LIKE ${t})`);
          }
          await tx`INSERT INTO jids_archive SELECT * FROM jids
                   WHERE jid IN (SELECT jid FROM salt_returns WHERE alter_time < ${stamp})
                      OR jid < ${oldJid}`;
          await tx`INSERT INTO salt_returns_archive SELECT * FROM salt_returns
                   WHERE alter_time < ${stamp}`;
          await tx`INSERT INTO salt_events_archive SELECT * FROM salt_events
                   WHERE alter_time < ${stamp}`;
        }
        const removed = await tx`DELETE FROM jids
          WHERE jid IN (SELECT jid FROM salt_returns WHERE alter_time < ${stamp}) OR jid < ${oldJid}`;
        await tx`DELETE FROM salt_returns WHERE alter_time < ${stamp}`;
        await tx`DELETE FROM salt_events WHERE alter_time < ${stamp}`;
        return removed.count;
      }) as number;
    });
  }

  /** Closes the connections (waiting up to 5 s for queries in flight). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Creates the schema once per connection life (again after a failure). */
  #ensureSchema(): Promise<void> {
    this.#schema ??= this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
      for (const statement of PGJSONB_SCHEMA) await tx.unsafe(statement);
    }).then(() => {}, (err) => {
      this.#schema = null;
      throw err;
    });
    return this.#schema;
  }

  async #run<T>(what: string, query: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ReturnerError("pgjsonb", `${this.where} is closed`);
    try {
      await this.#ensureSchema();
      return await query(this.#sql);
    } catch (err) {
      throw new ReturnerError(
        "pgjsonb",
        `could not ${what} in PostgreSQL at ${this.where}: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }
}
