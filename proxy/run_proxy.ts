/**
 * `runProxy`: salt-sproxy in a library call. Runs an execution function on
 * every roster device the target matches, through a pool of Workers, with
 * no long-running proxy minion, and optionally fires the run's events on
 * the master bus.
 *
 * @module
 */
import { userInfo } from "node:os";
import { resolveConfig } from "../bus/config.ts";
import { createLogger, isLogLevel, type Logger, type LogLevel } from "../bus/log.ts";
import { genJid } from "../bus/jid.ts";
import { publishArgs } from "../jobs/return_load.ts";
import { compileTarget, type TargetType } from "../jobs/target.ts";
import { CommandNotFoundError } from "../modules/errors.ts";
import { buildProxyLoader, type DeviceResult, type ProxyJob } from "./device_runner.ts";
import { runPool } from "./pool.ts";
import { ProxyEvents, type ProxySummary } from "./proxy_events.ts";
import { loadRoster, type Roster, rosterCandidate } from "./roster.ts";

/** Options of {@linkcode runProxy}. */
export interface RunProxyOptions {
  /** The target: a glob (default), list, pcre, grain or compound expression. */
  tgt: string | readonly string[];
  /** The target type (default `glob`). Grain targets match the roster's static `grains`. */
  tgtType?: TargetType;
  /** The execution function, e.g. `test.ping` or `net.arp`. */
  fun: string;
  /** Positional arguments. */
  args?: readonly unknown[];
  /** Keyword arguments. */
  kwargs?: Readonly<Record<string, unknown>>;
  /** The roster: parsed, or the path of a roster file. */
  roster: Roster | string;
  /**
   * Master configuration (Salt names): `sock_dir` (for events), `module_dirs`,
   * `proxy_module_dirs`, `events`, `log_level`, … Every device's `opts` start from it.
   */
  config?: Readonly<Record<string, unknown>>;
  /** Directories of proxy modules (default: `config.proxy_module_dirs`). */
  proxyModuleDirs?: readonly string[];
  /** Fire the run's events on the master bus (default: `config.events === true`). */
  events?: boolean;
  /** Also fire `proxy/runner/<jid>/summary`. */
  summary?: boolean;
  /** Number of Workers (default: `navigator.hardwareConcurrency`). */
  batchSize?: number;
  /** Devices in flight per Worker (default 8). */
  devicesPerWorker?: number;
  /** Seconds each device may take (default 30). */
  timeout?: number;
  /** The `user` of the events (default: `$USER`, else the OS user). */
  user?: string;
  /** The JID (default: a new one). */
  jid?: string;
  /** Where to log (default: stderr at `config.log_level`). */
  log?: Logger;
  /** Called with each device's result as it arrives, and the counts so far (for progress lines). */
  onResult?: (result: DeviceResult, progress: ProxyProgress) => void;
  /** Stops the run (its Workers are terminated). */
  signal?: AbortSignal;
}

/**
 * How far a proxy run is: devices answered, how many of them failed, and
 * how many the target matched.
 *
 * @example
 * ```ts
 * import type { ProxyProgress } from "./run_proxy.ts";
 * const p: ProxyProgress = { done: 523, failed: 2, total: 1000 };
 * ```
 */
export interface ProxyProgress {
  /** Devices that have answered (or failed, or timed out). */
  done: number;
  /** How many of those did not succeed. */
  failed: number;
  /** Devices the target matched. */
  total: number;
}

/**
 * What {@linkcode runProxy} resolves: the JID, every matched device's
 * result sorted by id, the summary, and whether events reached the bus.
 *
 * @example
 * ```ts
 * import type { ProxyRun } from "./run_proxy.ts";
 * function failed(run: ProxyRun): string[] {
 *   return run.results.filter((r) => !r.success).map((r) => r.id);
 * }
 * ```
 */
export interface ProxyRun {
  /** The run's JID (also in every event). */
  jid: string;
  /** One result per matched device, sorted by id. */
  results: DeviceResult[];
  /** salt-sproxy's summary fields. */
  summary: ProxySummary;
  /** Whether the events went to a master bus (false without `events`). */
  eventsSent: boolean;
}

/** The user of the events: `$USER`, else the OS user, else `UNKNOWN` (Salt's default). */
function currentUser(): string {
  try {
    return Deno.env.get("USER") || userInfo().username;
  } catch {
    return "UNKNOWN"; // no env or sys permission
  }
}

function dirsOf(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Runs `fun` on every roster device matching the target, salt-sproxy
 * style: a pool of `batchSize` Workers, each loading the device's proxy
 * module (`init`, `alive`, `grains`, …, `shutdown`) and the execution
 * modules for it. A device that throws, is unreachable or takes longer than
 * `timeout` gets `success: false` and the error text as its return; the
 * others carry on. With `events`, fires `<jid>`, `proxy/runner/<jid>/new`,
 * one `proxy/runner/<jid>/ret/<id>` per device and (with `summary`)
 * `proxy/runner/<jid>/summary` on the master bus, all with one JID; without
 * a master bus it logs one warning and runs anyway.
 *
 * @throws {TargetError} for a target that cannot be evaluated.
 * @throws {RosterError} for a roster file that cannot be used.
 * @throws {CommandNotFoundError} when `fun` is not an execution function.
 * @throws {ProxyRunError} when the Workers cannot start, or on abort.
 * @example
 * ```ts
 * import { runProxy } from "./run_proxy.ts";
 * const run = await runProxy({
 *   tgt: "edge*",
 *   fun: "net.arp",
 *   roster: { edge1: { proxytype: "dummy" }, edge2: { proxytype: "dummy" } },
 *   config: { sock_dir: "/tmp/saltbus/master" },
 *   events: true,
 *   summary: true,
 * });
 * for (const r of run.results) console.log(r.id, r.success, r.return);
 * ```
 */
export async function runProxy(options: RunProxyOptions): Promise<ProxyRun> {
  const config: Record<string, unknown> = { ...options.config };
  const logLevel: LogLevel = isLogLevel(config.log_level) ? config.log_level : "warning";
  const log = options.log ?? createLogger(logLevel);
  const tgtType = options.tgtType ?? "glob";
  const match = compileTarget(options.tgt, tgtType);
  const roster = typeof options.roster === "string"
    ? await loadRoster(options.roster)
    : options.roster;
  const matched = Object.keys(roster).filter((id) => match(rosterCandidate(id, roster[id]))).sort();

  const args = [...(options.args ?? [])];
  const kwargs = { ...options.kwargs };
  const master = resolveConfig("master", config);
  // As salt-sproxy: functions run as under salt-call, so event.send goes straight to the master.
  const opts = {
    ...config,
    __cli: config.__cli ?? "salt-call",
    master_sock_dir: config.master_sock_dir ?? master.sock_dir,
  };
  {
    // Check the function once here, not once per device; load errors are logged here too.
    await using probe = await buildProxyLoader({
      opts: { ...opts, id: matched[0] ?? "probe", proxy: { proxytype: "probe" } },
      grains: {},
      log,
    });
    if (!probe.has(options.fun)) throw new CommandNotFoundError(options.fun);
  }

  const jid = options.jid ?? genJid();
  const info = {
    jid,
    fun: options.fun,
    arg: publishArgs(args, kwargs),
    tgt: options.tgt,
    tgt_type: tgtType,
    user: options.user ?? currentUser(),
  };
  const results: DeviceResult[] = [];
  const progress: ProxyProgress = { done: 0, failed: 0, total: matched.length };
  const wantEvents = options.events ?? config.events === true;
  const events = wantEvents && matched.length > 0
    ? await ProxyEvents.open(info, matched, { config: master, log })
    : null;
  try {
    const timeout = options.timeout ?? 30;
    const job: ProxyJob = {
      fun: options.fun,
      args,
      kwargs,
      timeoutMs: Math.round(timeout * 1000),
      opts,
      proxyModuleDirs: dirsOf(options.proxyModuleDirs ?? config.proxy_module_dirs),
    };
    await runPool(matched.map((id) => [id, roster[id]] as const), {
      job,
      workers: options.batchSize ?? navigator.hardwareConcurrency,
      devicesPerWorker: options.devicesPerWorker ?? 8,
      logLevel,
      log,
      signal: options.signal,
      onResult(result) {
        results.push(result);
        events?.ret(result);
        progress.done++;
        if (!result.success) progress.failed++;
        options.onResult?.(result, { ...progress });
      },
    });
    results.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = (status: DeviceResult["status"]) =>
      results.filter((r) => r.status === status).map((r) => r.id);
    const summary: ProxySummary = {
      tgt: info.tgt,
      tgt_type: tgtType,
      fun: info.fun,
      fun_args: info.arg,
      jid,
      user: info.user,
      retcode: results.some((r) => r.retcode !== 0) ? 1 : 0,
      matched_minions: matched,
      existing_minions: [],
      sproxy_minions: matched,
      timeout_minions: ids("timeout"),
      down_minions: [],
      unreachable_devices: ids("unreachable"),
      failed_minions: ids("failed"),
    };
    if (options.summary) events?.summary(summary);
    return { jid, results, summary, eventsSent: events !== null };
  } finally {
    await events?.close();
  }
}
