/**
 * `LocalClient`: Salt's `salt.client.LocalClient` for TypeScript. Publishes
 * jobs through the master to its minions and collects their returns from
 * the master bus. One client keeps one link to the master and one listener,
 * and runs any number of jobs at once. An expected minion that disconnects
 * before returning is reported `not connected` as soon as the master tells
 * (a `_minion_lost` message on the client's link), not after the timeout.
 *
 * @module
 */
import { type BusConfig, loadConfig } from "../bus/config.ts";
import { BusUnreachableError } from "../bus/errors.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import type { MasterLink } from "../link/master_link.ts";
import { type NodeServices, socketServices } from "../link/node_services.ts";
import { publishArgs } from "./return_load.ts";
import type { TargetType } from "./target.ts";

/** Options of {@linkcode LocalClient}. */
export interface LocalClientOptions {
  /** A master config file (YAML, Salt's option names). */
  config?: string;
  /** Options with Salt's names; they win over the file. */
  opts?: Record<string, unknown>;
  /** The master's socket directory; wins over both. */
  sockDir?: string;
  /** Where to log (default: standard error at `log_level`). */
  log?: Logger;
  /** How to reach the master and its bus (default: over sockets). */
  services?: NodeServices;
}

/** Options of one job. */
export interface JobOptions {
  /** How to read the target (default `glob`). */
  tgtType?: TargetType;
  /** Keyword arguments for the function. */
  kwargs?: Record<string, unknown>;
  /** Seconds to wait for returns (default 5). */
  timeout?: number;
  /** Who asks (default: `$USER`, else `root`). */
  user?: string;
  /** Returners the minions also send their returns to, comma separated (Salt's `ret`, `--return`). */
  ret?: string;
}

/** One minion's answer to a job. */
export interface MinionReturn {
  /** The minion id. */
  id: string;
  /** What its function returned (or an error text). */
  return: unknown;
  /** 0 for success. */
  retcode: number;
  /** Whether the function succeeded. */
  success: boolean;
  /** Set for an expected minion that did not answer: `not connected` or `no response`. */
  missing?: "not connected" | "no response";
}

/** A published job, as the master answered a `_publish`. */
export interface PublishedJob {
  /** The new job's id. */
  jid: string;
  /** The minions expected to answer. */
  minions: string[];
  /** Those of them that are not connected. */
  missing: string[];
}

/** Salt's text for a minion that did not answer, as `salt` prints it. */
export const DID_NOT_RETURN = {
  "no response": "Minion did not return. [No response]",
  "not connected": "Minion did not return. [Not connected]",
} as const;

const EARLY_LIMIT = 10_000;

class JobState {
  readonly queue: MinionReturn[] = [];
  wake: (() => void) | null = null;
  push(ret: MinionReturn): void {
    this.queue.push(ret);
    this.wake?.();
  }
}

/**
 * Runs jobs on minions from a script on the master host.
 *
 * @example
 * ```ts
 * import { LocalClient } from "./local_client.ts";
 * await using client = new LocalClient({ sockDir: "/var/run/salt/master" });
 * const returns = await client.cmd("web*", "test.ping");
 * console.log(returns); // { web1: true, web2: true }
 * for await (const ret of client.cmdIter("G@os:Debian", "grains.item", ["os"], { tgtType: "compound" })) {
 *   console.log(ret.id, ret.return);
 * }
 * ```
 */
export class LocalClient implements AsyncDisposable {
  readonly #options: LocalClientOptions;
  #ready: Promise<{ link: MasterLink; listener: EventClient }> | null = null;
  readonly #jobs = new Map<string, JobState>();
  readonly #early = new Map<string, MinionReturn[]>();
  readonly #abort = new AbortController();
  #routing: Promise<void> = Promise.resolve();

  /** Creates a client; it connects on first use. */
  constructor(options: LocalClientOptions = {}) {
    this.#options = options;
  }

  /**
   * Runs `fun` on the minions `tgt` matches and resolves `{ id: return }`
   * (Salt's `LocalClient.cmd`); minions that did not answer are left out.
   *
   * @throws {BusUnreachableError} when no master is reachable.
   * @throws {MasterRequestError} when the master refuses the job (a bad target).
   */
  async cmd(
    tgt: string | string[],
    fun: string,
    args: unknown[] = [],
    options: JobOptions = {},
  ): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for await (const ret of this.cmdIter(tgt, fun, args, options)) {
      if (ret.missing === undefined) out[ret.id] = ret.return;
    }
    return out;
  }

  /**
   * Runs a job and yields each minion's return as it arrives, an entry with
   * `missing: "not connected"` as soon as an expected minion disconnects
   * before returning, then one entry with `missing` set for each expected
   * minion that did not answer within the timeout.
   */
  async *cmdIter(
    tgt: string | string[],
    fun: string,
    args: unknown[] = [],
    options: JobOptions = {},
  ): AsyncGenerator<MinionReturn> {
    const job = await this.publish(tgt, fun, args, options);
    yield* this.returns(job, options.timeout ?? 5);
  }

  /**
   * Publishes a job and resolves what the master answered (`jid`,
   * `minions`, `missing`); collect the returns with {@linkcode returns}.
   */
  async publish(
    tgt: string | string[],
    fun: string,
    args: unknown[] = [],
    options: JobOptions = {},
  ): Promise<PublishedJob> {
    const { link } = await this.#connect();
    const job = await link.request("_publish", {
      request: {
        tgt,
        tgt_type: options.tgtType ?? "glob",
        fun,
        arg: publishArgs(args, options.kwargs),
        user: options.user ?? Deno.env.get("USER") ?? "root",
        ...(options.ret ? { ret: options.ret } : {}),
      },
    }) as PublishedJob;
    const state = new JobState();
    for (const ret of this.#early.get(job.jid) ?? []) state.push(ret);
    this.#early.delete(job.jid);
    this.#jobs.set(job.jid, state);
    return job;
  }

  /** The returns of a published job, as in {@linkcode cmdIter}. */
  async *returns(job: PublishedJob, timeout: number): AsyncGenerator<MinionReturn> {
    const state = this.#jobs.get(job.jid);
    if (!state) throw new Error(`job ${job.jid} was not published by this client`);
    const waiting = new Set(job.minions.filter((id) => !job.missing.includes(id)));
    const settled = new Set<string>();
    const deadline = Date.now() + timeout * 1000;
    try {
      while (waiting.size > 0) {
        const ret = state.queue.shift();
        if (ret !== undefined) {
          // One answer per minion: a return after it was reported gone is not repeated.
          if (settled.has(ret.id)) continue;
          settled.add(ret.id);
          waiting.delete(ret.id);
          yield ret;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          function done() {
            clearTimeout(timer);
            state!.wake = null;
            resolve();
          }
          state.wake = done;
        });
      }
    } finally {
      this.#jobs.delete(job.jid);
    }
    for (const id of job.minions) {
      const missing = job.missing.includes(id)
        ? "not connected"
        : waiting.has(id)
        ? "no response"
        : undefined;
      if (missing) {
        yield { id, return: DID_NOT_RETURN[missing], retcode: 1, success: false, missing };
      }
    }
  }

  /** Closes the link and the listener. */
  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#ready === null) return;
    const ready = await this.#ready.catch(() => null);
    await this.#routing;
    if (ready) {
      await ready.listener.close();
      await ready.link.close();
    }
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #connect(): Promise<{ link: MasterLink; listener: EventClient }> {
    this.#ready ??= (async () => {
      const { config, log } = await this.#config();
      const services = this.#options.services ?? socketServices;
      const listener = services.eventClient(config, log);
      const link = services.masterLink(config, {
        hello: () => ({ role: "client", id: "saltbus-local-client", pid: Deno.pid }),
        log,
        onMessage: (message) => {
          if (message.tag === "_minion_lost") this.#lost(message.data);
        },
      });
      if (!(await listener.connected(5)) || !(await link.waitConnected(5000))) {
        await listener.close();
        await link.close();
        throw new BusUnreachableError(
          `no master at ${config.sock_dir}: start one with 'cli.ts master' or set sock_dir`,
        );
      }
      this.#routing = this.#route(listener);
      return { link, listener };
    })();
    return this.#ready;
  }

  async #config(): Promise<{ config: BusConfig; log: Logger }> {
    const overrides = { ...this.#options.opts };
    if (this.#options.sockDir !== undefined) overrides.sock_dir = this.#options.sockDir;
    const config = await loadConfig("master", this.#options.config, overrides);
    return { config, log: this.#options.log ?? createLogger(config.log_level) };
  }

  /** The master says an expected minion of a job disconnected before returning. */
  #lost(data: Record<string, unknown>): void {
    const { jid, id } = data;
    if (typeof jid !== "string" || typeof id !== "string") return;
    const missing = "not connected";
    this.#deliver(jid, {
      id,
      return: DID_NOT_RETURN[missing],
      retcode: 1,
      success: false,
      missing,
    });
  }

  /** Hands `ret` to its job, or keeps it a while when the job's publish is still being answered. */
  #deliver(jid: string, ret: MinionReturn): void {
    const job = this.#jobs.get(jid);
    if (job) {
      job.push(ret);
      return;
    }
    // A return can pass the master's answer to our publish: keep it a while.
    const early = this.#early.get(jid) ?? [];
    early.push(ret);
    this.#early.set(jid, early);
    if (this.#early.size > EARLY_LIMIT) {
      this.#early.delete(this.#early.keys().next().value!);
    }
  }

  async #route(listener: EventClient): Promise<void> {
    try {
      for await (
        const event of listener.iterEvents<Record<string, unknown>>({
          tag: "salt/job/",
          full: true,
          autoReconnect: true,
          signal: this.#abort.signal,
          keepAlive: false,
        })
      ) {
        const match = /^salt\/job\/([^/]+)\/ret\/(.+)$/.exec(event.tag);
        if (!match) continue;
        const [, jid, id] = match;
        const data = event.data;
        const ret: MinionReturn = {
          id,
          return: data.return,
          retcode: typeof data.retcode === "number" ? data.retcode : 0,
          success: data.success === true,
        };
        this.#deliver(jid, ret);
      }
    } catch (err) {
      if (!this.#abort.signal.aborted) throw err;
    }
  }
}
