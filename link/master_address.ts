/**
 * Where a minion finds its master. On one host that is the master's link
 * socket in the master's `sock_dir` (`master: local`, `master_sock_dir`);
 * other transports plug in here.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { defaultSockDir } from "../bus/paths.ts";
import { masterLinkPath } from "./link_paths.ts";

/**
 * The master link socket a minion configuration points at.
 *
 * @throws {ConfigError} for a `master` other than `local`.
 * @example
 * ```ts
 * import { masterLinkPathFor } from "./master_address.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * masterLinkPathFor(resolveConfig("minion", { id: "web1", master_sock_dir: "/tmp/m" }));
 * // "/tmp/m/master_minion_link.ipc"
 * ```
 */
export function masterLinkPathFor(config: BusConfig): string {
  const master = config.master ?? "local";
  if (master !== "local") {
    throw new ConfigError(
      `master: ${JSON.stringify(master)}: saltbus reaches a master on this host only; ` +
        `set master: local and master_sock_dir to the master's sock_dir`,
    );
  }
  return masterLinkPath((config.master_sock_dir as string | undefined) ?? defaultSockDir("master"));
}
