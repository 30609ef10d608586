/**
 * Runs a job the master published, on a minion (spec §7.2): a minion that
 * the target does not match ignores it; one that matches runs the function
 * through the loader, with Salt's `__pub_*` keyword arguments for functions
 * that take keyword arguments, and returns a `_return` load.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import { compileTarget, type TargetType } from "../jobs/target.ts";
import { returnLoad } from "../jobs/return_load.ts";
import { ArgumentError, CommandNotFoundError } from "../modules/errors.ts";
import { splitKwargs } from "../modules/kwargs.ts";
import type { Loader } from "../modules/loader.ts";
import { JobKilledError, runningJobsOf } from "../modules/running_jobs.ts";

/** The minion a job runs on. */
export interface JobMinion {
  /** Its id. */
  readonly id: string;
  /** Its grains (for grain targets). */
  readonly grains: Readonly<Record<string, unknown>>;
}

/**
 * Runs publication `job` if it targets `minion`; resolves the `_return` load
 * to send back, or `null` when the job is not for this minion.
 *
 * @example
 * ```ts
 * import { runPublishedJob } from "./job_runner.ts";
 * import { loadModules } from "../modules/loader.ts";
 * await using loader = await loadModules({ opts: { id: "web1" } });
 * const load = await runPublishedJob(loader, { id: "web1", grains: loader.grains }, {
 *   jid: "20240501123456789012", tgt: "web*", tgt_type: "glob", fun: "test.ping", arg: [],
 * });
 * // { cmd: "_return", id: "web1", jid: "2024…", fun: "test.ping", fun_args: [], return: true, retcode: 0, success: true }
 * ```
 */
export async function runPublishedJob(
  loader: Loader,
  minion: JobMinion,
  job: Record<string, unknown>,
  log?: Logger,
): Promise<Record<string, unknown> | null> {
  const { jid, fun } = job;
  if (typeof jid !== "string" || typeof fun !== "string") return null;
  try {
    const match = compileTarget(
      job.tgt as string | string[],
      (job.tgt_type ?? "glob") as TargetType,
    );
    if (!match(minion)) return null;
  } catch (err) {
    log?.warning(`job ${jid}: bad target: ${err instanceof Error ? err.message : err}`);
    return null;
  }
  const rawArgs = Array.isArray(job.arg) ? job.arg : [];
  const { args, kwargs } = splitKwargs(rawArgs);
  let result: unknown;
  let retcode = 0;
  try {
    if (!loader.has(fun)) throw new CommandNotFoundError(fun);
    const callKwargs = loader.acceptsKwargs(fun)
      ? {
        ...kwargs,
        __pub_user: job.user ?? "root",
        __pub_arg: rawArgs,
        __pub_fun: fun,
        __pub_jid: jid,
        __pub_tgt: job.tgt,
        __pub_tgt_type: job.tgt_type ?? "glob",
        __pub_ret: job.ret ?? "",
      }
      : kwargs;
    result = await runningJobsOf(loader.salt).track(job, () => loader.call(fun, args, callKwargs));
  } catch (err) {
    if (err instanceof JobKilledError) return null; // killed: no return, as in Salt
    retcode = 1;
    const message = err instanceof Error ? err.message : String(err);
    result = err instanceof CommandNotFoundError
      ? message
      : err instanceof ArgumentError
      ? `Passed invalid arguments to ${fun}: ${message}`
      : `The minion function caused an exception: ${
        err instanceof Error ? err.stack ?? message : message
      }`;
    log?.warning(`job ${jid} ${fun} failed: ${message}`);
  }
  return returnLoad({ id: minion.id, jid, fun, args, kwargs, result, retcode });
}
