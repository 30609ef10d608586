/**
 * What the master's components share: its configuration, its bus and an
 * in-process client of it, the services to reach buses and the master, the
 * minion registry (the link server), and the log. A component is
 * `{name, start(ctx), close()}`; `startMaster` starts them in order and
 * closes them in reverse.
 *
 * @module
 */
import type { BusHandle } from "../broker/start_bus.ts";
import type { BusConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import type { MinionLinkServer } from "../link/link_server.ts";
import type { NodeServices } from "../link/node_services.ts";

/** One part of the master: the link server, job publishing, presence, the API, … */
export interface MasterComponent {
  /** Its name, for logs and errors. */
  readonly name: string;
  /** Starts it; a rejection stops the master's start (what started is closed). */
  start(ctx: MasterContext): Promise<void> | void;
  /** Stops it; called once, in reverse order of starting. */
  close(): Promise<void> | void;
}

/**
 * The master's shared state, handed to every component's `start`.
 *
 * @example
 * ```ts
 * import type { MasterComponent, MasterContext } from "./master_context.ts";
 * const hello: MasterComponent = {
 *   name: "hello",
 *   async start(ctx: MasterContext) {
 *     await ctx.events.fireEvent({ up: true }, "myco/master/hello");
 *   },
 *   close() {},
 * };
 * ```
 */
export class MasterContext {
  #minions: MinionLinkServer | null = null;

  /** @internal Made by `startMaster`. */
  constructor(
    /** The resolved master configuration. */
    readonly config: BusConfig,
    /** The config file it came from, for messages (`undefined` without one). */
    readonly source: string | undefined,
    /** Where to log. */
    readonly log: Logger,
    /** The master bus. */
    readonly bus: BusHandle,
    /** An in-process, fire-only client of the master bus. */
    readonly events: EventClient,
    /** How components reach buses and the master (in-process for this bus). */
    readonly services: NodeServices,
  ) {}

  /**
   * The minion registry and link server.
   *
   * @throws {Error} before the link server component has started.
   */
  get minions(): MinionLinkServer {
    if (this.#minions === null) {
      throw new Error("the minion link server has not started: put its component first");
    }
    return this.#minions;
  }

  /** Set by the link server component once it listens. */
  setMinions(server: MinionLinkServer): void {
    this.#minions = server;
  }
}
