/**
 * The master daemon's parts: its bus (a broker Worker on
 * `master_event_pub.ipc` / `master_event_pull.ipc`) and the minion link
 * server beside it, firing minion events and job events onto the bus
 * in-process.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { MinionLinkServer } from "../link/link_server.ts";
import { type BusHandle, startBus } from "../workers/start_bus.ts";
import { serveJobs } from "./job_publisher.ts";
import { PresenceReporter } from "./presence.ts";

/** Options of {@linkcode startMaster}. */
export interface StartMasterOptions {
  /** The resolved master configuration. */
  config: BusConfig;
  /** Where to log (default: standard error at `log_level`). */
  log?: Logger;
  /** An already running bus to serve (default: a new one on `config`). */
  bus?: BusHandle;
}

/**
 * A running master: bus and minion link. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { startMaster } from "./start_master.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await using master = await startMaster({ config: resolveConfig("master", { sock_dir: "/tmp/m" }) });
 * console.log(master.minions.minions.map((m) => m.id));
 * ```
 */
export class MasterHandle implements AsyncDisposable {
  #closed: Promise<void> | null = null;
  readonly #ownsBus: boolean;
  readonly #presence: PresenceReporter | null;

  /** @internal Use {@linkcode startMaster}. */
  constructor(
    /** The master bus. */
    readonly bus: BusHandle,
    /** The minion link server. */
    readonly minions: MinionLinkServer,
    /** The in-process client the master fires with. */
    readonly events: EventClient,
    presence: PresenceReporter | null,
    ownsBus: boolean,
  ) {
    this.#presence = presence;
    this.#ownsBus = ownsBus;
  }

  /** Closes the minion link, then the bus (socket files removed). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.minions.close();
      await this.#presence?.close();
      await this.events.close();
      if (this.#ownsBus) await this.bus.close();
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a master: the bus, then the minion link server in the same
 * `sock_dir`.
 *
 * @throws {BrokerStartError} when a socket cannot be bound.
 * @example
 * ```ts
 * import { startMaster } from "./start_master.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * const master = await startMaster({ config: resolveConfig("master", { sock_dir: "/tmp/m" }) });
 * await master.close();
 * ```
 */
export async function startMaster(options: StartMasterOptions): Promise<MasterHandle> {
  const { config } = options;
  const log = options.log ?? createLogger(config.log_level);
  const bus = options.bus ?? await startBus({ node: "master", config, log });
  const events = bus.getEvent({ listen: false });
  let presence: PresenceReporter | null = null;
  try {
    const minions = await MinionLinkServer.listen({
      sockDir: config.sock_dir,
      events,
      log,
      maxFrameSize: config.max_frame_size,
      onPresence: (id, connected) => presence?.changed(id, connected),
    });
    if (config.presence_events === true) {
      presence = new PresenceReporter(
        events,
        () => minions.minions.map((m) => m.id),
        (config.loop_interval as number | undefined) ?? 60,
      );
    }
    serveJobs(minions, events);
    return new MasterHandle(bus, minions, events, presence, options.bus === undefined);
  } catch (err) {
    await presence?.close();
    await events.close();
    if (options.bus === undefined) await bus.close();
    throw err;
  }
}
