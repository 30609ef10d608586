/**
 * How the master↔minion link reaches across: a {@linkcode LinkDialer} on the
 * minion's (or a client's) side, a {@linkcode LinkListener} on the master's.
 * On one host both are the master's `master_minion_link.ipc` Unix socket
 * (`master: local`); a network transport plugs in behind the same two
 * interfaces.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { defaultSockDir } from "../bus/paths.ts";
import type { ByteChannel } from "../bus/transport.ts";
import { dialEndpoint, listenEndpoint } from "./endpoint.ts";
import type { LinkDialer, LinkListener } from "./link_endpoints.ts";
import { masterLinkPath } from "./link_paths.ts";
import { ensureSockDir } from "./sock_dir.ts";
import { natsServersOf } from "./nats_connect.ts";
import { NatsLinkDialer } from "./nats_link.ts";
import { loadNodeKey } from "./nkey_file.ts";
import { join } from "node:path";

/**
 * Where a node keeps its keys (`pki_dir`): by default `<sock_dir>/pki`,
 * private like the sock_dir (Salt's is `/etc/salt/pki/<node>`).
 *
 * @example
 * ```ts
 * import { pkiDirOf } from "./link_transport.ts";
 * pkiDirOf({ sock_dir: "/run/saltbus/master" }); // "/run/saltbus/master/pki"
 * ```
 */
export function pkiDirOf(config: { pki_dir?: unknown; sock_dir: string }): string {
  return typeof config.pki_dir === "string" && config.pki_dir !== ""
    ? config.pki_dir
    : join(config.sock_dir, "pki");
}

export type { LinkDialer, LinkListener } from "./link_endpoints.ts";

/**
 * A {@linkcode LinkDialer} for a socket address (a path, or `tcp://…`).
 *
 * @example
 * ```ts
 * import { SocketLinkDialer } from "./link_transport.ts";
 * const dialer = new SocketLinkDialer("/tmp/m/master_minion_link.ipc");
 * const channel = await dialer.dial();
 * channel.close();
 * ```
 */
export class SocketLinkDialer implements LinkDialer {
  /** Creates a dialer for `address`. */
  constructor(readonly address: string) {}

  /** Connects to the address. */
  dial(): Promise<ByteChannel> {
    return dialEndpoint(this.address);
  }

  /** The address. */
  describe(): string {
    return this.address;
  }
}

/**
 * The dialer for the master a configuration points at: for a minion config,
 * its master (`master: local`, in `master_sock_dir`, by default the master's
 * default `sock_dir`); for a master config, that master itself (its
 * `sock_dir`), as CLI commands and clients on the master's host use it.
 * A minion config with `transport: nats` gets a {@linkcode NatsLinkDialer}
 * on `nats_servers`, with the minion's NKey from `pki_dir` (`log` is where
 * it logs).
 *
 * @throws {ConfigError} for a `master` other than `local`, or bad `nats_servers`/`nats_tls`.
 * @example
 * ```ts
 * import { linkDialerFor } from "./link_transport.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * linkDialerFor(resolveConfig("minion", { id: "web1", master_sock_dir: "/tmp/m" })).describe();
 * // "/tmp/m/master_minion_link.ipc"
 * ```
 */
export function linkDialerFor(config: BusConfig, log?: Logger): LinkDialer {
  if (config.node === "master") return new SocketLinkDialer(masterLinkPath(config.sock_dir));
  if (config.transport === "nats") {
    const source = typeof config.conf_file === "string" ? config.conf_file : "the minion config";
    const { servers, tls } = natsServersOf(config as Record<string, unknown>, source);
    const pkiDir = pkiDirOf(config);
    return new NatsLinkDialer({
      id: config.id!,
      servers,
      tls,
      key: () => loadNodeKey(pkiDir, "minion"),
      log: log ?? createLogger(config.log_level),
    });
  }
  const master = config.master ?? "local";
  if (master !== "local") {
    throw new ConfigError(
      `master: ${JSON.stringify(master)}: saltbus reaches a master on this host only; ` +
        `set master: local and master_sock_dir to the master's sock_dir`,
    );
  }
  const sockDir = (config.master_sock_dir as string | undefined) ?? defaultSockDir("master");
  return new SocketLinkDialer(masterLinkPath(sockDir));
}

/** Options of {@linkcode listenLink}. */
export interface ListenLinkOptions {
  /** Where accept trouble and a lost socket file are logged. @default stderr at `log_level` */
  log?: Logger;
}

/**
 * Listens for minions on `<sock_dir>/master_minion_link.ipc` (mode 0600; a
 * stale file is replaced, a live master is an error). The sock_dir is
 * checked first (owner-only, see `ensureSockDir`), the path is locked for as
 * long as it is served (`<path>.lock`: a second master is refused even if
 * this one's socket file was deleted), accepting survives descriptor
 * exhaustion, and a removed socket file is re-created.
 *
 * @throws {BrokerStartError} when it cannot listen (an `UnsafePathError` for
 * an unsafe sock_dir, a `SocketLockedError` when another master serves it).
 * @example
 * ```ts
 * import { listenLink } from "./link_transport.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * const listener = await listenLink(resolveConfig("master", { sock_dir: await Deno.makeTempDir() }));
 * await listener.close();
 * ```
 */
export async function listenLink(
  config: BusConfig,
  options: ListenLinkOptions = {},
): Promise<LinkListener> {
  await ensureSockDir(config.sock_dir);
  return await listenEndpoint(masterLinkPath(config.sock_dir), {
    mode: 0o600,
    log: options.log ?? createLogger(config.log_level),
  });
}
