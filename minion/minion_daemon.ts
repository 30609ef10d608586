/**
 * The minion daemon: its own bus (a broker Worker on the minion socket
 * names), a self-healing link to the master, and the forwarding of
 * `fire_master` events from its bus to the master bus as Salt's
 * `_minion_event` loads (spec §1.8).
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { socketServices } from "../link/node_services.ts";
import { isMapping } from "../bus/mapping.ts";
import type { Loader } from "../modules/loader.ts";
import { type JobMinion, runPublishedJob } from "./job_runner.ts";
import { MinionReturners } from "./job_returners.ts";
import type { MasterLink } from "../link/master_link.ts";
import { DEFAULT_HEARTBEAT_MS } from "../link/link_server.ts";
import { reservedTagReason } from "../link/reserved_tags.ts";
import { type BusHandle, startBus } from "../broker/start_bus.ts";
import { minionEventLoad } from "../link/minion_event_load.ts";
import { startEventLoads } from "./start_events.ts";
import { startEngines } from "../engines/start_engines.ts";
import type { EngineSupervisor } from "../engines/supervisor.ts";

/** Options of {@linkcode startMinion}. */
export interface StartMinionOptions {
  /**
   * The resolved minion configuration (`id` required; `master_sock_dir`,
   * `master_queue_size`, `link_heartbeat_interval` in seconds (default 5), …).
   */
  config: BusConfig;
  /** The minion's grains, announced to the master (for grain targeting). */
  grains?: Readonly<Record<string, unknown>>;
  /** Where to log (default: standard error at `log_level`). */
  log?: Logger;
  /** The execution modules jobs from the master run with (without one, jobs are ignored). */
  loader?: Loader;
}

/**
 * A running minion. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { startMinion } from "./minion_daemon.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await using minion = await startMinion({
 *   config: resolveConfig("minion", { id: "web1", sock_dir: "/tmp/m1", master_sock_dir: "/tmp/m" }),
 * });
 * console.log(minion.bus.paths.pub, minion.link.connected);
 * ```
 */
export class MinionHandle implements AsyncDisposable {
  /** The minion id. */
  readonly id: string;
  /** The minion's own bus. */
  readonly bus: BusHandle;
  /** The link to the master. */
  readonly link: MasterLink;
  readonly #listener: EventClient;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #forwarding: Promise<void> = Promise.resolve();
  #engines: EngineSupervisor | null = null;
  #engineEvents: EventClient | null = null;
  #closed: Promise<void> | null = null;
  /** @internal The returners of `--return` / `ext_job_cache`, closed with the minion. */
  returners: MinionReturners | null = null;

  /** @internal Use {@linkcode startMinion}. */
  constructor(id: string, bus: BusHandle, link: MasterLink, listener: EventClient, log: Logger) {
    this.id = id;
    this.bus = bus;
    this.link = link;
    this.#listener = listener;
    this.#log = log;
  }

  /** @internal Starts the `engines` (spec §13) on the minion bus. */
  async startEngines(config: BusConfig): Promise<void> {
    this.#engineEvents = this.bus.getEvent({ listen: false });
    this.#engines = await startEngines({
      config: config as unknown as Record<string, unknown>,
      role: "minion",
      log: this.#log,
      events: this.#engineEvents,
    });
  }

  /** @internal Starts forwarding `fire_master` events. */
  startForwarding(): void {
    this.#forwarding = this.#forward();
  }

  /**
   * Sends one event to the master bus as a `_minion_event` load, unless its
   * tag is reserved for the master (then it logs a warning and returns false).
   */
  sendToMaster(tag: unknown, data: unknown, pretag: unknown = null): boolean {
    if (typeof tag !== "string" || tag === "") {
      this.#log.warning(`fire_master event without a tag: not forwarded`);
      return false;
    }
    const reason = reservedTagReason(tag, this.id);
    if (reason !== null) {
      this.#log.warning(`refusing to forward ${tag} to the master: ${reason}`);
      return false;
    }
    return this.link.send("_minion_event", { load: minionEventLoad(this.id, tag, data, pretag) });
  }

  /** Stops forwarding, closes the link (after writing what it holds) and the bus. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#engines?.close();
      await this.#engineEvents?.close();
      this.#abort.abort();
      await this.#forwarding;
      await this.#listener.close();
      await this.link.close();
      await this.returners?.close();
      await this.bus.close();
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #forward(): Promise<void> {
    try {
      for await (
        const event of this.#listener.iterEvents({
          tag: "fire_master",
          matchType: "startswith",
          full: true,
          autoReconnect: true,
          signal: this.#abort.signal,
        })
      ) {
        const load = event.data;
        if (!isMapping(load)) continue;
        if (Array.isArray(load.events)) {
          for (const inner of load.events) {
            if (isMapping(inner)) this.sendToMaster(inner.tag, inner.data ?? inner, load.pretag);
          }
        } else {
          this.sendToMaster(load.tag, load.data, load.pretag);
        }
      }
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#log.error(`fire_master forwarding stopped: ${err}`);
    }
  }
}

/** Runs one published job and sends its return, if the job is for this minion. */
async function runJob(
  loader: Loader,
  minion: JobMinion,
  job: Record<string, unknown>,
  link: MasterLink,
  log: Logger,
  returners: MinionReturners,
): Promise<void> {
  const load = await runPublishedJob(loader, minion, job, log);
  if (load === null) return;
  link.send("_return", { load });
  await returners.send(job.ret, load); // after the master's return, as Salt's minion
}

/**
 * Starts a minion: its bus on the minion socket names (`sock_dir`), the
 * link to the master (it waits for a master that is not up yet), the start
 * events, the forwarding of `fire_master` events, and (given a `loader`)
 * the jobs the master publishes.
 *
 * @throws {ConfigError} without an `id`, or for a `master` saltbus cannot reach.
 * @throws {BrokerStartError} when the minion bus cannot listen.
 * @example
 * ```ts
 * import { startMinion } from "./minion_daemon.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * const minion = await startMinion({ config: resolveConfig("minion", { id: "web1" }) });
 * await minion.close();
 * ```
 */
export async function startMinion(options: StartMinionOptions): Promise<MinionHandle> {
  const { config } = options;
  const id = config.id;
  if (id === undefined || id === "") {
    throw new ConfigError("a minion needs an id: give --id ID or set id: in the minion config");
  }
  const log = options.log ?? createLogger(config.log_level);
  const grains = options.grains ?? options.loader?.grains ?? {};
  const bus = await startBus({ node: "minion", config, log });
  const listener = bus.getEvent();
  let handle: MinionHandle | null = null;
  const returners = new MinionReturners(config as unknown as Record<string, unknown>, log);
  const link = socketServices.masterLink(config, {
    keepAlive: true,
    hello: () => ({ role: "minion", id, pid: Deno.pid, grains }),
    log,
    queueSize: config.master_queue_size as number | undefined,
    reconnectMs: config.recon_default as number | undefined,
    reconnectMaxMs: config.recon_max as number | undefined,
    heartbeatMs: config.link_heartbeat_interval === undefined
      ? DEFAULT_HEARTBEAT_MS
      : (config.link_heartbeat_interval as number) * 1000,
    onMessage: (message) => {
      if (message.tag === "_publish" && options.loader) {
        void runJob(options.loader, { id, grains }, message.data, link, log, returners);
      }
    },
  });
  handle = new MinionHandle(id, bus, link, listener, log);
  handle.returners = returners;
  try {
    await listener.connected(5);
  } catch (err) {
    await handle.close();
    throw err;
  }
  for (const load of startEventLoads(config, grains)) {
    link.send("_minion_event", { load });
  }
  handle.startForwarding();
  try {
    await handle.startEngines(config);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
