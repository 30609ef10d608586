/**
 * The `jobs.*` runners (spec §15), reading the job cache: `lookup_jid`,
 * `list_job`, `list_jobs` (with its filters), `print_job`, `exit_success`,
 * `last_run`, and `active` (asked of the running master over its link, as
 * `_jobs`). The returner is the first set of `ext_job_cache`, `ext_source`
 * and `master_job_cache` (default `sqlite`), as in Salt. The runners open
 * the store themselves (path from `cachedir`), so jobs can be looked up with
 * the master stopped or restarted.
 *
 * @module
 */
import { jidToDate, jidToTime } from "../bus/jid.ts";
import { BusUnreachableError, UsageError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";
import { fnmatch } from "../bus/tag_match.ts";
import { MasterRequestError } from "../link/master_link.ts";
import { openReturner } from "../returners/registry.ts";
import { formatJobInstance, type Returner } from "../returners/returner.ts";
import type { RunnerContext } from "./runner_context.ts";

function returnerName(opts: Record<string, unknown>, extSource: unknown): unknown {
  for (const name of [opts.ext_job_cache, extSource, opts.master_job_cache]) {
    if (name) return name;
  }
  return "sqlite";
}

async function withStore<T>(
  ctx: RunnerContext,
  extSource: unknown,
  use: (store: Returner) => Promise<T>,
): Promise<T> {
  const store = await openReturner(returnerName(ctx.opts, extSource), ctx.opts, "ext_source");
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** The runners' `_format_jid_instance`: the common record, with `Minions`, or Salt's error record. */
function formatJid(jid: string, load: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = Object.keys(load).length === 0
    ? { Error: "Cannot contact returner or no job with this jid" }
    : formatJobInstance(load);
  if (Object.keys(load).length > 0 && "Minions" in load) record.Minions = load.Minions;
  record.StartTime = jidToTime(jid);
  return record;
}

async function listJob(store: Returner, jid: string): Promise<Record<string, unknown>> {
  return {
    jid,
    ...formatJid(jid, await store.get_load(jid)),
    Result: await store.get_jid(jid),
  };
}

function jidArg(jid: unknown): string {
  if (typeof jid === "string" || typeof jid === "number" || typeof jid === "bigint") {
    return String(jid);
  }
  throw new UsageError(`jobs: a jid such as 20240501123456789012 is needed, not ${jid}`);
}

/** Salt's `salt.utils.args.split_input`: a list, or a comma-separated string. */
function splitInput(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value).split(",").map((s) => s.trim());
}

/**
 * `jobs.lookup_jid`: `{minion: return}` of a job; with `missing=True` also
 * `Minion did not return` for targeted minions without a return; wrapped in
 * `{outputter, data}` when the first return names an outputter.
 *
 * @example
 * ```ts
 * import { lookup_jid } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await lookup_jid.call(ctx, "20240501123456789012"); // { web1: true }
 * ```
 */
export async function lookup_jid(
  this: RunnerContext,
  jid: unknown,
  ext_source: unknown = null,
  returned: unknown = true,
  missing: unknown = false,
  display_progress: unknown = false,
): Promise<unknown> {
  void display_progress; // progress events are not fired
  const id = jidArg(jid);
  const data = await withStore(this, ext_source, (store) => listJob(store, id));
  const returns = data.Result as Record<string, Record<string, unknown>>;
  const ret: Record<string, unknown> = {};
  if (returned) { for (const minion of Object.keys(returns)) ret[minion] = returns[minion].return; }
  if (missing) {
    for (const minion of (data.Minions as string[] | undefined) ?? []) {
      if (!(minion in returns)) ret[minion] = "Minion did not return";
    }
  }
  const first = Object.values(returns)[0];
  const outputter = first?.out;
  return outputter ? { outputter, data: ret } : ret;
}

/**
 * `jobs.list_job`: `{jid, <record>, Result}` for one job.
 *
 * @example
 * ```ts
 * import { list_job } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await list_job.call(ctx, "20240501123456789012"); // { jid, Function, …, Result: {…} }
 * ```
 */
export async function list_job(
  this: RunnerContext,
  jid: unknown,
  ext_source: unknown = null,
  display_progress: unknown = false,
): Promise<Record<string, unknown>> {
  void display_progress; // progress events are not fired
  const id = jidArg(jid);
  return await withStore(this, ext_source, (store) => listJob(store, id));
}

/** Parses a time for `start_time`/`end_time`: ISO-like, or Salt's `2024, May 01 12:34:56.789012`. */
function parseTime(value: unknown, option: string): number {
  const text = String(value);
  const salt = /^(\d{4}), (\w{3}) (\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
  const ms = salt
    ? Date.parse(
      `${salt[3]} ${salt[2]} ${salt[1]} ${salt[4]}${salt[5] ? "." + salt[5].slice(0, 3) : ""} UTC`,
    )
    : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(" ", "T")}Z`);
  if (Number.isNaN(ms)) {
    throw new UsageError(`jobs.list_jobs: ${option} '${text}' is not a date and time`);
  }
  return ms;
}

/**
 * `jobs.list_jobs`: every stored job `{jid: record}` (without `Minions`),
 * filtered (all AND-ed): `search_metadata` (a mapping; any key equal),
 * `search_target` / `search_function` (fnmatch globs; a list or a
 * comma-separated string), `start_time` / `end_time` (against `StartTime`,
 * UTC). With `outputter`: `{outputter, data}`.
 *
 * @example
 * ```ts
 * import { list_jobs } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await list_jobs.call(ctx, null, null, null, "test.*"); // { "2024…": { Function: "test.ping", … } }
 * ```
 */
export async function list_jobs(
  this: RunnerContext,
  ext_source: unknown = null,
  outputter: unknown = null,
  search_metadata: unknown = null,
  search_function: unknown = null,
  search_target: unknown = null,
  start_time: unknown = null,
  end_time: unknown = null,
  display_progress: unknown = false,
): Promise<unknown> {
  void display_progress; // progress events are not fired
  const jobs = await withStore(this, ext_source, (store) => store.get_jids());
  const start = start_time ? parseTime(start_time, "start_time") : null;
  const end = end_time ? parseTime(end_time, "end_time") : null;
  if (search_metadata && !isMapping(search_metadata)) {
    this.log.info("The search_metadata parameter must be specified as a dictionary.  Ignoring.");
  }
  const out: Record<string, unknown> = {};
  for (const [jid, record] of Object.entries(jobs)) {
    let match = true;
    if (search_metadata) {
      match = false;
      const meta = record.Metadata;
      if (isMapping(meta) && isMapping(search_metadata)) {
        match = Object.entries(search_metadata).some(([k, v]) =>
          k in meta && JSON.stringify(meta[k]) === JSON.stringify(v)
        );
      }
    }
    if (search_target && match) {
      const targets = Array.isArray(record.Target) ? record.Target : [record.Target];
      match = targets.some((t) => splitInput(search_target).some((g) => fnmatch(String(t), g)));
    }
    if (search_function && match) {
      match = splitInput(search_function).some((g) => fnmatch(String(record.Function), g));
    }
    const at = jidToDate(jid)?.getTime() ?? NaN;
    if (start !== null && match) match = at >= start;
    if (end !== null && match) match = at <= end;
    if (match) out[jid] = record;
  }
  return outputter ? { outputter, data: out } : out;
}

/**
 * `jobs.print_job`: `{jid: {<record>, Result}}`.
 *
 * @example
 * ```ts
 * import { print_job } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await print_job.call(ctx, "20240501123456789012");
 * ```
 */
export async function print_job(
  this: RunnerContext,
  jid: unknown,
  ext_source: unknown = null,
): Promise<Record<string, unknown>> {
  const id = jidArg(jid);
  return await withStore(this, ext_source, async (store) => ({
    [id]: { ...formatJid(id, await store.get_load(id)), Result: await store.get_jid(id) },
  }));
}

/**
 * `jobs.exit_success`: `{minion: bool}`, whether each targeted or
 * returned minion returned something truthy.
 *
 * @example
 * ```ts
 * import { exit_success } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await exit_success.call(ctx, "20240501123456789012"); // { web1: true, db1: false }
 * ```
 */
export async function exit_success(
  this: RunnerContext,
  jid: unknown,
  ext_source: unknown = null,
): Promise<Record<string, boolean>> {
  const id = jidArg(jid);
  const data = await withStore(this, ext_source, (store) => listJob(store, id));
  const result = data.Result as Record<string, Record<string, unknown>>;
  const ret: Record<string, boolean> = {};
  for (const minion of (data.Minions as string[] | undefined) ?? []) {
    ret[minion] = minion in result && "return" in result[minion] && truthy(result[minion].return);
  }
  for (const [minion, r] of Object.entries(result)) {
    if ("return" in r && truthy(r.return)) ret[minion] = true;
  }
  return ret;
}

/** Python's truth value of a decoded return. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isMapping(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * `jobs.last_run`: {@linkcode print_job} of the newest job matching the
 * filters, or `false`.
 *
 * @example
 * ```ts
 * import { last_run } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await last_run.call(ctx, null, null, null, "test.ping");
 * ```
 */
export async function last_run(
  this: RunnerContext,
  ext_source: unknown = null,
  outputter: unknown = null,
  metadata: unknown = null,
  function_: unknown = null,
  target: unknown = null,
  display_progress: unknown = false,
): Promise<unknown> {
  void outputter; // the record goes through the outputter `run` uses
  if (metadata && !isMapping(metadata)) {
    this.log.info("The metadata parameter must be specified as a dictionary");
    return false;
  }
  const jobs = await list_jobs.call(
    this,
    ext_source,
    null,
    metadata,
    function_,
    target,
    null,
    null,
    display_progress,
  ) as Record<string, unknown>;
  const jids = Object.keys(jobs).sort();
  if (jids.length === 0) return false;
  return await print_job.call(this, jids[jids.length - 1], ext_source);
}

/** The parameter names for keyword binding: Salt's `function` is a reserved word in JavaScript. */
last_run.params = ["ext_source", "outputter", "metadata", "function", "target", "display_progress"];

/**
 * `jobs.active`: the jobs some targeted, connected minion has not returned
 * for yet, as the running master saw them: `{jid: {<record>, Running:
 * [{minion: null}], Returned: [minion, …]}}` (the master does not know the
 * minions' process ids, so each pid is `null`).
 *
 * @throws {BusUnreachableError} when no master answers.
 * @example
 * ```ts
 * import { active } from "./jobs.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await active.call(ctx); // { "2024…": { Function: "test.sleep", …, Running: [{ web1: null }], Returned: [] } }
 * ```
 */
export async function active(
  this: RunnerContext,
  display_progress: unknown = false,
): Promise<Record<string, unknown>> {
  void display_progress; // progress events are not fired
  let jobs: Record<string, { load: Record<string, unknown>; running: string[] }>;
  try {
    jobs = await this.services.requestMaster(this.opts, "_jobs", { fun: "active" }, {
      hello: { role: "client", id: "saltbus-cli", pid: Deno.pid },
    }) as typeof jobs;
  } catch (err) {
    if (err instanceof MasterRequestError) throw new BusUnreachableError(err.message);
    throw err;
  }
  const returnedOf = await withStore(this, null, async (store) => {
    const out: Record<string, string[]> = {};
    for (const jid of Object.keys(jobs)) out[jid] = Object.keys(await store.get_jid(jid));
    return out;
  });
  const ret: Record<string, unknown> = {};
  for (const [jid, job] of Object.entries(jobs)) {
    ret[jid] = {
      ...formatJid(jid, job.load),
      Running: job.running.map((id) => ({ [id]: null })),
      Returned: returnedOf[jid],
    };
  }
  return ret;
}
