/**
 * `startEngines`: reads `engines` and `engines_dirs`, resolves each
 * engine's module, and starts a supervisor for them (Salt's
 * `salt.engines.start_engines`). With no engines configured nothing is
 * loaded and no Worker is made. On the master the `reactor` engine is the
 * master's own `reactor` component, so it is not run in a Worker.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import { parseEngines, parseEnginesDirs, restartPolicy } from "./config.ts";
import type { EngineRole } from "./engine_context.ts";
import { resolveEngines } from "./resolve_engine.ts";
import { EngineSupervisor } from "./supervisor.ts";

/** Options of {@linkcode startEngines}. */
export interface StartEnginesOptions {
  /** The daemon's resolved configuration. */
  config: Record<string, unknown>;
  /** The config file, for messages. */
  source?: string;
  /** master or minion. */
  role: EngineRole;
  /** Where to log. */
  log: Logger;
  /** A fire-only client of this node's bus, for the failure events (not closed here). */
  events: EventClient;
  /** How long a stopping engine may take before its Worker is terminated (default 3000 ms). */
  graceMs?: number;
}

/**
 * Starts the configured engines; `null` when there are none.
 *
 * @throws {ConfigError} naming `engines`, `engines_dirs` or
 *   `engine_restart_delay` for a bad value or an unknown engine.
 * @example
 * ```ts
 * import { startEngines } from "./start_engines.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { startBus } from "../broker/start_bus.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * const engines = await startEngines({
 *   config: { ...bus.config, engines: ["test"] },
 *   role: "master",
 *   log: createLogger("info"),
 *   events: bus.getEvent({ listen: false }),
 * });
 * await engines?.close();
 * ```
 */
export async function startEngines(
  options: StartEnginesOptions,
): Promise<EngineSupervisor | null> {
  const { config, source, role, log } = options;
  let specs = parseEngines(config.engines, source);
  if (role === "master") {
    specs = specs.filter((spec) => {
      if (spec.module !== "reactor") return true;
      log.info(
        `Engine '${spec.name}': on the master the reactor runs as the master's reactor component`,
      );
      return false;
    });
  }
  if (specs.length === 0) return null;
  const engines = await resolveEngines(
    specs,
    parseEnginesDirs(config.engines_dirs, source),
    source,
  );
  const supervisor = new EngineSupervisor({
    engines,
    config,
    role,
    log,
    events: options.events,
    restart: restartPolicy(config, source),
    graceMs: options.graceMs,
  });
  supervisor.start();
  return supervisor;
}
