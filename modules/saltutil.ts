/**
 * The `saltutil` job functions (Salt's `salt/modules/saltutil.py`):
 * `running`, `find_job`, `signal_job`, `term_job`, `kill_job`. saltbus runs
 * jobs inside the minion process, so every job's `pid` is the minion's, and
 * a signal does not reach an operating-system process: the job is dropped
 * at once and sends no return (as a Salt job killed by SIGKILL), while the
 * function's own code runs on until its next `await` finds nothing to do.
 *
 * @module
 */
import type { ModuleContext } from "./context.ts";
import { type RunningJob, runningJobsOf } from "./running_jobs.ts";

/**
 * The data of the jobs running on this minion (each job's publication plus
 * `pid`), without the job that asks, as Salt leaves out its own process.
 *
 * CLI example: `saltbus '*' saltutil.running`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("saltutil.running"); // []
 * ```
 */
export function running(this: ModuleContext, kwargs: Record<string, unknown> = {}): RunningJob[] {
  return runningJobsOf(this.salt).list(kwargs.__pub_jid);
}

/**
 * The data of running job `jid`, or `{}`.
 *
 * CLI example: `saltbus '*' saltutil.find_job <job id>`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("saltutil.find_job", ["20240501123456789012"]); // {}
 * ```
 */
export function find_job(this: ModuleContext, jid: unknown): RunningJob | Record<string, never> {
  return runningJobsOf(this.salt).list().find((job) => job.jid === String(jid)) ?? {};
}

/**
 * Sends signal `sig` to job `jid`: `Signal <sig> sent to job <jid> at pid
 * <pid>`, or `""` when no such job runs (Salt's answers). The job is
 * dropped without a return whatever the signal.
 *
 * CLI example: `saltbus '*' saltutil.signal_job <job id> 15`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("saltutil.signal_job", ["20240501123456789012", 15]); // ""
 * ```
 */
export function signal_job(this: ModuleContext, jid: unknown, sig: unknown): string {
  const signal = Number(sig);
  if (!Number.isInteger(signal)) {
    throw new TypeError(`saltutil.signal_job: sig must be a signal number, not ${sig}`);
  }
  const id = String(jid);
  const job = runningJobsOf(this.salt).list().find((j) => j.jid === id);
  if (job === undefined || !runningJobsOf(this.salt).kill(id, signal)) return "";
  return `Signal ${signal} sent to job ${id} at pid ${job.pid}`;
}

/**
 * {@linkcode signal_job} with SIGTERM (15).
 *
 * CLI example: `saltbus '*' saltutil.term_job <job id>`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("saltutil.term_job", ["20240501123456789012"]); // ""
 * ```
 */
export function term_job(this: ModuleContext, jid: unknown): string {
  return signal_job.call(this, jid, 15);
}

/**
 * {@linkcode signal_job} with SIGKILL (9).
 *
 * CLI example: `saltbus '*' saltutil.kill_job <job id>`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("saltutil.kill_job", ["20240501123456789012"]); // ""
 * ```
 */
export function kill_job(this: ModuleContext, jid: unknown): string {
  return signal_job.call(this, jid, 9);
}
