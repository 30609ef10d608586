/**
 * The runner and wheel context the API's resource routes call with: the
 * master's configuration, the API's log and services, and no terminal.
 *
 * @module
 */
import { type BusConfig, resolveConfig } from "../bus/config.ts";
import type { Logger } from "../bus/log.ts";
import type { NodeServices } from "../link/node_services.ts";
import type { RunnerContext } from "../runners/runner_context.ts";

/**
 * A runner (and wheel) context for the API process.
 *
 * @example
 * ```ts
 * import { apiRunnerContext } from "./resource_context.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { socketServices } from "../link/node_services.ts";
 * const ctx = apiRunnerContext(resolveConfig("master", {}), socketServices, createLogger("info"));
 * ```
 */
export function apiRunnerContext(
  config: BusConfig,
  services: NodeServices,
  log: Logger,
): Omit<RunnerContext, "fun"> {
  return {
    opts: config,
    configFor: (node, overrides = {}) =>
      Promise.resolve(
        node === config.node
          ? { ...config, ...overrides } as BusConfig
          : resolveConfig(node, overrides),
      ),
    log,
    services,
    print: (line) => log.info(line),
  };
}
