/**
 * `cli.ts minion --id ID [--config FILE]`: runs a minion daemon in the
 * foreground until SIGINT or SIGTERM.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { createLogger, formatLogLine } from "../bus/log.ts";
import { linkDialerFor } from "../transport/link_transport.ts";
import { startMinion } from "../minion/minion_daemon.ts";
import { loadModules } from "../modules/loader.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { untilStopSignal } from "./signals.ts";

/**
 * Runs the minion daemon for `config` until a stop signal; resolves the exit code.
 *
 * @example
 * ```ts
 * import { runMinion } from "./minion_command.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await runMinion({}, [], resolveConfig("minion", { id: "web1" }));
 * ```
 */
export async function runMinion(
  values: Values,
  positionals: string[],
  config: BusConfig,
): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(`minion takes no arguments, got '${positionals[0]}'`);
  }
  if (values["log-level"] === undefined && values.config === undefined) config.log_level = "info";
  const log = createLogger(config.log_level);
  await using loader = await loadModules({ opts: config, log });
  const minion = await startMinion({ config, loader, log });
  console.error(
    formatLogLine(
      "info",
      `minion ${minion.id} ready: bus ${minion.bus.paths.pub}, master ${
        linkDialerFor(config).describe()
      } (Ctrl-C to stop)`,
    ),
  );
  const signal = await untilStopSignal();
  log.info(`${signal}: shutting down`);
  await minion.close();
  log.info("stopped; socket files removed");
  return EXIT.ok;
}
