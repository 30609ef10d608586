/**
 * The jobs a minion is running now, for `saltutil.running`,
 * `saltutil.find_job` and `saltutil.kill_job` (Salt keeps them as files in
 * `<cachedir>/proc`; saltbus runs jobs inside the minion process and keeps
 * them in memory, one registry per loader).
 *
 * @module
 */
import { SaltbusError } from "../bus/errors.ts";
import type { SaltFunctions } from "./context.ts";

/** A running job as `saltutil.running` shows it: the publication plus `pid`. */
export type RunningJob = Record<string, unknown> & { jid: string; pid: number };

/**
 * The job was killed with `saltutil.kill_job` (or `signal_job`): it sends
 * no return, as a Salt job whose process got SIGKILL.
 *
 * @example
 * ```ts
 * import { JobKilledError } from "./running_jobs.ts";
 * const err = new JobKilledError("20240501123456789012", 9);
 * console.log(err.message); // "job 20240501123456789012 was killed (signal 9)"
 * ```
 */
export class JobKilledError extends SaltbusError {
  /** The killed job. */
  readonly jid: string;

  /** Creates the error for `jid`. */
  constructor(jid: string, signal: number) {
    super(`job ${jid} was killed (signal ${signal})`);
    this.name = "JobKilledError";
    this.jid = jid;
  }
}

interface Entry {
  data: RunningJob;
  kill: (signal: number) => void;
}

/**
 * The registry of one loader's running jobs.
 *
 * @example
 * ```ts
 * import { RunningJobs } from "./running_jobs.ts";
 * const jobs = new RunningJobs();
 * const ret = await jobs.track({ jid: "20240501123456789012", fun: "test.ping" }, async () => true);
 * console.log(ret, jobs.list()); // true []
 * ```
 */
export class RunningJobs {
  readonly #jobs = new Map<string, Entry>();

  /**
   * Runs `run()` as job `job` (its publication: `jid`, `fun`, `arg`, …):
   * listed while it runs; rejects with {@linkcode JobKilledError} at once
   * when the job is killed (the function's own code cannot be stopped).
   */
  async track<T>(job: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    const jid = String(job.jid);
    let kill!: (signal: number) => void;
    const killed = new Promise<never>((_, reject) => {
      kill = (signal) => reject(new JobKilledError(jid, signal));
    });
    const data: RunningJob = { ...job, jid, pid: Deno.pid };
    this.#jobs.set(jid, { data, kill });
    try {
      return await Promise.race([run(), killed]);
    } finally {
      if (this.#jobs.get(jid)?.data === data) this.#jobs.delete(jid);
    }
  }

  /** The running jobs' data, oldest first; without the job `exceptJid` (the caller's own). */
  list(exceptJid?: unknown): RunningJob[] {
    return [...this.#jobs.values()].map((e) => structuredClone(e.data)).filter((d) =>
      d.jid !== exceptJid
    );
  }

  /** Kills job `jid`; resolves whether it was running. */
  kill(jid: string, signal: number): boolean {
    const entry = this.#jobs.get(jid);
    if (entry === undefined) return false;
    this.#jobs.delete(jid);
    entry.kill(signal);
    return true;
  }
}

const REGISTRIES = new WeakMap<object, RunningJobs>();

/**
 * The running-jobs registry of the loader whose `salt` mapping this is.
 *
 * @example
 * ```ts
 * import { runningJobsOf } from "./running_jobs.ts";
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * console.log(runningJobsOf(loader.salt).list()); // []
 * ```
 */
export function runningJobsOf(salt: SaltFunctions): RunningJobs {
  let jobs = REGISTRIES.get(salt);
  if (jobs === undefined) {
    jobs = new RunningJobs();
    REGISTRIES.set(salt, jobs);
  }
  return jobs;
}
