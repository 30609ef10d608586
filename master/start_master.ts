/**
 * `startMaster`: the master as a list of components over one
 * {@linkcode MasterContext}: its bus (a broker Worker on
 * `master_event_pub.ipc` / `master_event_pull.ipc`), then the minion link
 * server, job publishing, presence and the HTTP API.
 *
 * @module
 */
import { type BusHandle, startBus } from "../broker/start_bus.ts";
import type { BusConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import type { MinionLinkServer } from "../link/link_server.ts";
import { inProcessServices } from "../link/node_services.ts";
import { defaultMasterComponents } from "./components.ts";
import { type MasterComponent, MasterContext } from "./master_context.ts";

/** Options of {@linkcode startMaster}. */
export interface StartMasterOptions {
  /** The resolved master configuration. */
  config: BusConfig;
  /** The config file it came from, for messages. */
  source?: string;
  /** Where to log (default: standard error at `log_level`). */
  log?: Logger;
  /** An already running bus to serve (default: a new one on `config`). */
  bus?: BusHandle;
  /** The components, in start order (default: {@linkcode defaultMasterComponents}). */
  components?: MasterComponent[];
}

/**
 * A running master. Close it with `close()` or `await using`.
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
  readonly #started: MasterComponent[];

  /** @internal Use {@linkcode startMaster}. */
  constructor(
    /** What the components share. */
    readonly context: MasterContext,
    started: MasterComponent[],
    ownsBus: boolean,
  ) {
    this.#started = started;
    this.#ownsBus = ownsBus;
  }

  /** The master bus. */
  get bus(): BusHandle {
    return this.context.bus;
  }

  /** The minion link server (who is connected, what they announced). */
  get minions(): MinionLinkServer {
    return this.context.minions;
  }

  /** The in-process client the master fires with. */
  get events(): EventClient {
    return this.context.events;
  }

  /** Closes the components in reverse order, then the bus (socket files removed). */
  close(): Promise<void> {
    this.#closed ??= closeAll(this.context, this.#started, this.#ownsBus);
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function closeAll(
  ctx: MasterContext,
  started: MasterComponent[],
  ownsBus: boolean,
): Promise<void> {
  for (const component of [...started].reverse()) {
    try {
      await component.close();
    } catch (err) {
      ctx.log.warning(
        `closing ${component.name} failed: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  await ctx.events.close();
  if (ownsBus) await ctx.bus.close();
}

/**
 * Starts a master: the bus, then each component in order. When one fails
 * to start, those already started are closed and the error is thrown.
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
  const ctx = new MasterContext(
    config,
    options.source,
    log,
    bus,
    bus.getEvent({ listen: false }),
    inProcessServices(bus),
  );
  const started: MasterComponent[] = [];
  try {
    for (const component of options.components ?? defaultMasterComponents()) {
      await component.start(ctx);
      started.push(component);
    }
  } catch (err) {
    await closeAll(ctx, started, options.bus === undefined);
    throw err;
  }
  return new MasterHandle(ctx, started, options.bus === undefined);
}
