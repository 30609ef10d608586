/**
 * How modules, `LocalClient`, the HTTP API and the CLI reach a bus and the
 * master: one service instead of sockets opened here and there. The socket
 * implementation dials through the transport layer; a master hands its own
 * components the in-process one, so they talk to its broker over
 * MessagePorts.
 *
 * @module
 */
import type { BusHandle } from "../broker/start_bus.ts";
import type { BusConfig } from "../bus/config.ts";
import { EventClient, type EventClientOptions } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import { busConnectorFor } from "../transport/bus_connector.ts";
import { linkDialerFor } from "../transport/link_transport.ts";
import {
  MasterLink,
  type MasterLinkOptions,
  requestMaster,
  type RequestMasterOptions,
} from "./master_link.ts";

/** Opens clients of buses and links to the master. */
export interface NodeServices {
  /** An event client on the bus `config` names (its node, `sock_dir`, `ipc_mode`). */
  eventClient(config: BusConfig, log: Logger, options?: EventClientOptions): EventClient;
  /** A self-healing link to the master `config` points at. */
  masterLink(config: BusConfig, options: Omit<MasterLinkOptions, "dialer">): MasterLink;
  /** One request to the master `config` points at, over a fresh connection. */
  requestMaster(
    config: BusConfig,
    tag: string,
    data: Record<string, unknown>,
    options: Omit<RequestMasterOptions, "dialer">,
  ): Promise<unknown>;
}

/**
 * The services on sockets: buses through their socket files or TCP ports,
 * the master through its link socket.
 *
 * @example
 * ```ts
 * import { socketServices } from "./node_services.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * import { createLogger } from "../bus/log.ts";
 * const config = resolveConfig("master", { sock_dir: "/tmp/m" });
 * await using ev = socketServices.eventClient(config, createLogger("info"), { listen: false });
 * await ev.fireEvent({ a: 1 }, "my/tag");
 * ```
 */
export const socketServices: NodeServices = Object.freeze({
  eventClient(config: BusConfig, log: Logger, options?: EventClientOptions): EventClient {
    return new EventClient(busConnectorFor(config), config, log, options);
  },
  masterLink(config: BusConfig, options: Omit<MasterLinkOptions, "dialer">): MasterLink {
    return new MasterLink({ ...options, dialer: linkDialerFor(config, options.log) });
  },
  requestMaster(
    config: BusConfig,
    tag: string,
    data: Record<string, unknown>,
    options: Omit<RequestMasterOptions, "dialer">,
  ): Promise<unknown> {
    return requestMaster(tag, data, { ...options, dialer: linkDialerFor(config) });
  },
});

/**
 * The services inside a process that runs `bus`: clients of that bus talk
 * to its broker over MessagePorts; anything else goes over sockets.
 *
 * @example
 * ```ts
 * import { inProcessServices } from "./node_services.ts";
 * import { startBus } from "../broker/start_bus.ts";
 * import { createLogger } from "../bus/log.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * const services = inProcessServices(bus);
 * await using ev = services.eventClient(bus.config, createLogger("info"));
 * ```
 */
export function inProcessServices(bus: BusHandle): NodeServices {
  const sameBus = (config: BusConfig) =>
    config.node === bus.config.node && config.sock_dir === bus.config.sock_dir &&
    config.ipc_mode === bus.config.ipc_mode;
  return Object.freeze({
    ...socketServices,
    eventClient(config: BusConfig, log: Logger, options?: EventClientOptions): EventClient {
      return sameBus(config)
        ? new EventClient(bus.connector, config, log, options)
        : socketServices.eventClient(config, log, options);
    },
  });
}
