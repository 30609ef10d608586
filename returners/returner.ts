/**
 * The returner contract (spec §14.3) with Salt's function names: a returner
 * stores job returns (`returner`), publish loads (`save_load`), events
 * (`event_return`), and reads them back for the `jobs.*` runners
 * (`get_load`, `get_jid`, `get_jids`). `clean_old_jobs` runs from the
 * master's `loop_interval`.
 *
 * @module
 */
import { jidToTime } from "../bus/jid.ts";
import { SaltbusError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";

/** A minion's return load (spec §7.2): `id`, `jid`, `fun`, `fun_args`, `return`, `retcode`, `success`, … */
export type ReturnLoad = Record<string, unknown> & { id: string; jid: string };

/** A full event as `event_return` gets it: `{tag, data}`. */
export interface FullEvent {
  /** The event's tag. */
  tag: string;
  /** Its data. */
  data: Record<string, unknown>;
}

/** One minion's stored return, as `get_jid` gives it (Salt's `local_cache` shape). */
export interface StoredReturn {
  /** What the function returned. */
  return: unknown;
  /** Its retcode, when the load had one. */
  retcode?: number;
  /** Whether it succeeded, when the load said. */
  success?: boolean;
  /** The outputter, when the load named one. */
  out?: string;
}

/**
 * A returner, with Salt's function names. Writes may be batched: their
 * promises resolve once the write is stored, and every read sees the writes
 * made before it.
 *
 * @example
 * ```ts
 * import type { Returner } from "./returner.ts";
 * declare const store: Returner;
 * await store.save_load("20240501123456789012", { fun: "test.ping", tgt: "*" }, ["web1"]);
 * console.log(await store.get_load("20240501123456789012")); // { fun: "test.ping", …, Minions: ["web1"] }
 * ```
 */
export interface Returner {
  /** The returner's virtual name (`sqlite`). */
  readonly name: string;
  /** Stores one minion's return load. */
  returner(ret: ReturnLoad): Promise<void>;
  /** Stores full events (`{tag, data}`), in one transaction. */
  event_return(events: readonly FullEvent[]): Promise<void>;
  /** Stores a job's publish load and the minions it targets. */
  save_load(jid: string, load: Record<string, unknown>, minions?: readonly string[]): Promise<void>;
  /** The saved load with `Minions` (sorted), or `{}` for an unknown jid. */
  get_load(jid: string): Promise<Record<string, unknown>>;
  /** `{minion: {return, retcode?, success?, out?}}` for a jid. */
  get_jid(jid: string): Promise<Record<string, StoredReturn>>;
  /** `{jid: formatJidInstance(jid, load)}` for every stored job. */
  get_jids(): Promise<Record<string, Record<string, unknown>>>;
  /** `passed_jid` unchanged, else a new unique jid. */
  prep_jid(nocache?: boolean, passed_jid?: string | null): string;
  /** Removes jobs and events older than `keep_jobs_seconds` (0: keeps everything); resolves how many jobs went. */
  clean_old_jobs(): Promise<number>;
  /** Stores what is pending and closes the store. */
  close(): Promise<void>;
}

/**
 * A returner failed to open or to store: names the returner and what to do.
 *
 * @example
 * ```ts
 * import { ReturnerError } from "./returner.ts";
 * const err = new ReturnerError("sqlite", "cannot open /x/job_cache.sqlite: read-only");
 * console.log(err.name, err.returner); // "ReturnerError" "sqlite"
 * ```
 */
export class ReturnerError extends SaltbusError {
  /** The returner's name. */
  readonly returner: string;

  /** Creates the error; the message is prefixed with the returner's name. */
  constructor(returner: string, message: string, options?: ErrorOptions) {
    super(`returner ${returner}: ${message}`, options);
    this.name = "ReturnerError";
    this.returner = returner;
  }
}

/**
 * Salt's `salt.utils.jid.format_job_instance`: a publish load as the job
 * record the `jobs.*` runners show (`Function`, `Arguments`, `Target`,
 * `Target-type`, `User`, and `Metadata` when the load has it).
 *
 * @example
 * ```ts
 * import { formatJobInstance } from "./returner.ts";
 * formatJobInstance({ fun: "test.ping", tgt: "*", tgt_type: "glob", arg: [] });
 * // { Function: "test.ping", Arguments: [], Target: "*", "Target-type": "glob", User: "root" }
 * ```
 */
export function formatJobInstance(job: Record<string, unknown>): Record<string, unknown> {
  const ret: Record<string, unknown> = {
    Function: job.fun ?? "unknown-function",
    Arguments: Array.isArray(job.arg) ? [...job.arg] : [],
    Target: job.tgt ?? "unknown-target",
    "Target-type": job.tgt_type ?? "list",
    User: job.user ?? "root",
  };
  if ("metadata" in job) ret.Metadata = job.metadata ?? {};
  else if (isMapping(job.kwargs) && "metadata" in job.kwargs) {
    ret.Metadata = job.kwargs.metadata ?? {};
  }
  return ret;
}

/**
 * Salt's `salt.utils.jid.format_jid_instance`: {@linkcode formatJobInstance}
 * plus `StartTime` from the jid (no `Minions`).
 *
 * @example
 * ```ts
 * import { formatJidInstance } from "./returner.ts";
 * formatJidInstance("20240501123456789012", { fun: "test.ping" }).StartTime;
 * // "2024, May 01 12:34:56.789012"
 * ```
 */
export function formatJidInstance(
  jid: string,
  job: Record<string, unknown>,
): Record<string, unknown> {
  return { ...formatJobInstance(job), StartTime: jidToTime(jid) };
}
