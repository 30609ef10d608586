/**
 * What a runner function runs with (`this`), as Salt's runners see
 * `__opts__`: the master's configuration, a log, the services to reach buses
 * and the master, and where its output goes.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import type { Logger } from "../bus/log.ts";
import type { NodeKind } from "../bus/paths.ts";
import type { NodeServices } from "../link/node_services.ts";

/** The `this` of a runner function. */
export interface RunnerContext {
  /** Salt's `__opts__`: the resolved master configuration. */
  readonly opts: BusConfig;
  /** The configuration of another bus of this host (`node=minion`), with overrides. */
  configFor(node: NodeKind, overrides?: Record<string, unknown>): Promise<BusConfig>;
  /** Where to log. */
  readonly log: Logger;
  /** How to reach buses and the master. */
  readonly services: NodeServices;
  /** Prints one line of output (standard output for the CLI). */
  readonly print: (line: string) => void;
  /** Stops a long-running runner (`state.event`). */
  readonly signal?: AbortSignal;
  /** The runner being called, e.g. `"state.event"`. */
  readonly fun: string;
}

/** A runner function: Salt's argument binding applies, as for execution modules. */
// deno-lint-ignore no-explicit-any
export type RunnerFunction = (this: RunnerContext, ...args: any[]) => unknown;
