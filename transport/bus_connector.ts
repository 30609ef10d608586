/**
 * The {@linkcode Connector} for a bus's two sockets, Unix or loopback TCP,
 * and the one function that picks it from a configuration.
 *
 * @module
 */
import { type BusConfig, configSocketPaths } from "../bus/config.ts";
import type { SocketPaths } from "../bus/paths.ts";
import type { ByteChannel, Connector } from "../bus/transport.ts";
import { dialEndpoint } from "./endpoint.ts";

/**
 * Connects to a bus through its two socket addresses (file paths, or
 * `tcp://127.0.0.1:<port>` with `ipc_mode: tcp`).
 *
 * @example
 * ```ts
 * import { BusConnector } from "./bus_connector.ts";
 * const connector = new BusConnector({
 *   pub: "/tmp/x/master_event_pub.ipc",
 *   pull: "/tmp/x/master_event_pull.ipc",
 * });
 * const pull = await connector.connectPull();
 * pull.close();
 * ```
 */
export class BusConnector implements Connector {
  /** Creates a connector for `paths`. */
  constructor(readonly paths: SocketPaths) {}

  /** Connects to the pub socket. */
  connectPub(): Promise<ByteChannel> {
    return dialEndpoint(this.paths.pub);
  }

  /** Connects to the pull socket. */
  connectPull(): Promise<ByteChannel> {
    return dialEndpoint(this.paths.pull);
  }

  /** The socket directory (or, on TCP, the pull address). */
  describe(): string {
    if (this.paths.pull.startsWith("tcp://")) return this.paths.pull;
    return this.paths.pull.replace(/[^/]*$/, "") || this.paths.pull;
  }
}

/**
 * The connector for the bus a configuration names: its `sock_dir` and
 * socket names, or its TCP ports with `ipc_mode: tcp`.
 *
 * @example
 * ```ts
 * import { busConnectorFor } from "./bus_connector.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * const connector = busConnectorFor(resolveConfig("master", { ipc_mode: "tcp" }));
 * connector.describe(); // "tcp://127.0.0.1:4513"
 * ```
 */
export function busConnectorFor(config: BusConfig): BusConnector {
  return new BusConnector(configSocketPaths(config));
}
