/**
 * Connecting to NATS for the link (`transport: nats`): the servers, TLS and
 * credentials from the config, reconnection forever with jittered back-off
 * (nats.js gives up after about 20 s by default), the connection's status
 * in the log, and errors a user can act on (`connection refused`,
 * `authorization violation`, a TLS mismatch).
 *
 * nats.js can throw from inside a socket event handler (a TLS socket that
 * is not authorized, a reset after a refused TLS connection); with no
 * handler that is an uncaught exception and ends the process. The first
 * connection installs a guard that logs such socket errors instead, so a
 * daemon never dies of them.
 *
 * @module
 */
import {
  connect,
  type NatsConnection,
  nkeyAuthenticator,
  type NodeConnectionOptions,
} from "npm:@nats-io/transport-node@3.4.0";
import { isIP } from "node:net";
import { ConfigError, SaltbusError } from "../bus/errors.ts";
import type { Logger } from "../bus/log.ts";

export type { NatsConnection };

/** TLS settings for NATS (`nats_tls:`). */
export interface NatsTls {
  /** CA certificate file that signed the server's certificate. */
  caFile?: string;
  /** Client certificate, when the server verifies clients. */
  certFile?: string;
  /** Client key. */
  keyFile?: string;
  /**
   * The name (or IP address) to check the server's certificate against.
   * Needed when `nats_servers` holds IP addresses: nats.js 3.4 then checks
   * the certificate against "localhost".
   */
  serverName?: string;
}

/** Where and how to connect. */
export interface NatsSettings {
  /** `nats_servers`: `nats://host:4222` or `tls://host:4222` URLs. */
  servers: string[];
  /** TLS, when the servers need it. */
  tls?: NatsTls;
  /** The NKey seed to authenticate with. */
  seed?: Uint8Array;
  /** A user and password instead (the shared pending user). */
  user?: string;
  /** The password of `user`. */
  pass?: string;
  /** The inbox prefix the per-minion permissions allow (`_INBOX_<id>`). */
  inboxPrefix?: string;
  /** Connection name, shown by the server. */
  name: string;
}

/**
 * NATS cannot be reached: the message says why (refused, credentials, TLS).
 *
 * @example
 * ```ts
 * import { NatsUnreachableError } from "./nats_connect.ts";
 * throw new NatsUnreachableError("no NATS server at nats://10.0.0.1:4222 (connection refused)");
 * ```
 */
export class NatsUnreachableError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NatsUnreachableError";
  }
}

let guardInstalled = false;

/** Socket errors from inside the NATS client that must not end the process. */
function isSocketError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; stack?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const text = `${e?.message ?? ""} ${e?.stack ?? ""}`;
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_)/
    .test(code) ||
    /node_transport|nats-io|certificate|TLS|tls|ECONNRESET/.test(text);
}

/**
 * Installs (once) the guard against uncaught socket errors thrown by the
 * NATS client; they are logged with `log` instead.
 *
 * @example
 * ```ts
 * import { guardSocketErrors } from "./nats_connect.ts";
 * import { createLogger } from "../bus/log.ts";
 * guardSocketErrors(createLogger("info"));
 * ```
 */
export function guardSocketErrors(log: Logger): void {
  if (guardInstalled) return;
  guardInstalled = true;
  globalThis.addEventListener("error", (event) => {
    if (!isSocketError(event.error)) return;
    event.preventDefault();
    log.debug(`NATS: socket error: ${(event.error as Error)?.message ?? event.error}`);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isSocketError(event.reason)) return;
    event.preventDefault();
    log.debug(`NATS: socket error: ${(event.reason as Error)?.message ?? event.reason}`);
  });
}

/**
 * A sentence for a failed connection: what is wrong and what to check.
 *
 * @example
 * ```ts
 * import { explainNatsError } from "./nats_connect.ts";
 * explainNatsError(new Error("Authorization Violation"), ["nats://10.0.0.1:4222"]);
 * ```
 */
export function explainNatsError(err: unknown, servers: readonly string[]): string {
  const text = `${(err as Error)?.message ?? err} ${
    (err as { cause?: Error })?.cause?.message ?? ""
  }`;
  const where = servers.join(", ");
  if (/authoriz|authentication|auth/i.test(text)) {
    return `NATS at ${where} refused our credentials (authorization violation): ` +
      "is this key accepted (cli.ts key -L on the master), and is the server's " +
      "authorization file the one the master writes (nats_auth_file)?";
  }
  if (/ECONNREFUSED|refused/i.test(text)) {
    return `no NATS server at ${where} (connection refused): is nats-server running, ` +
      "and are nats_servers right?";
  }
  if (/certificate|tls|ssl|handshake|altname|self.signed/i.test(text)) {
    return `TLS with NATS at ${where} failed (${text.trim()}): check nats_tls (ca_file, ` +
      "server_name when nats_servers holds IP addresses, cert_file and key_file if the " +
      "server verifies clients)";
  }
  return `cannot reach NATS at ${where}: ${text.trim()}`;
}

/**
 * Opens a NATS connection that reconnects forever.
 *
 * @throws {NatsUnreachableError} with {@linkcode explainNatsError}'s sentence when the first
 * connection fails (the caller decides whether to retry).
 * @example
 * ```ts
 * import { connectNats } from "./nats_connect.ts";
 * import { createLogger } from "../bus/log.ts";
 * const nc = await connectNats({ servers: ["nats://127.0.0.1:4222"], name: "demo" }, createLogger("info"));
 * await nc.close();
 * ```
 */
export async function connectNats(settings: NatsSettings, log: Logger): Promise<NatsConnection> {
  guardSocketErrors(log);
  const options: NodeConnectionOptions = {
    servers: settings.servers,
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    reconnectJitterTLS: 500,
    pingInterval: 5_000,
    maxPingOut: 3,
    ignoreAuthErrorAbort: false,
  };
  if (settings.inboxPrefix) options.inboxPrefix = settings.inboxPrefix;
  if (settings.seed) options.authenticator = nkeyAuthenticator(settings.seed);
  else if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.pass;
  }
  const tls = settings.tls;
  if (tls) {
    const node: Record<string, unknown> = {};
    if (tls.caFile) node.caFile = tls.caFile;
    if (tls.certFile) node.certFile = tls.certFile;
    if (tls.keyFile) node.keyFile = tls.keyFile;
    // Passed through to node:tls's connect(): the name the certificate must
    // hold. With an IP in servers nats.js checks "localhost" instead; an IP
    // goes in `host` (node refuses an IP as `servername`), a name in `servername`.
    if (tls.serverName) {
      if (isIP(tls.serverName)) node.host = tls.serverName;
      else node.servername = tls.serverName;
    }
    options.tls = node as NodeConnectionOptions["tls"];
  }
  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (err) {
    throw new NatsUnreachableError(explainNatsError(err, settings.servers), { cause: err });
  }
  return nc;
}

/**
 * Drains `nc` (flushing what was published), but never waits more than
 * `ms`: a connection that is reconnecting (its server gone, or its
 * credentials refused) is closed instead.
 *
 * @example
 * ```ts
 * import { closeNats, connectNats } from "./nats_connect.ts";
 * import { createLogger } from "../bus/log.ts";
 * const nc = await connectNats({ servers: ["nats://127.0.0.1:4222"], name: "demo" }, createLogger("info"));
 * await closeNats(nc);
 * ```
 */
export async function closeNats(nc: NatsConnection, ms = 2000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  await Promise.race([nc.drain().catch(() => {}), late]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => {});
}

/**
 * The NATS settings of a config (`nats_servers`, `nats_tls`).
 *
 * @throws {ConfigError} naming the option and `source`.
 * @example
 * ```ts
 * import { natsServersOf } from "./nats_connect.ts";
 * natsServersOf({ nats_servers: ["nats://10.0.0.1:4222"] }, "/etc/saltbus/minion");
 * ```
 */
export function natsServersOf(
  config: Record<string, unknown>,
  source: string,
): { servers: string[]; tls?: NatsTls } {
  const raw = config.nats_servers ?? ["nats://127.0.0.1:4222"];
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== "string")) {
    throw new ConfigError(
      `nats_servers in ${source}: expected a list of URLs such as nats://10.0.0.1:4222, ` +
        `got ${JSON.stringify(raw)}`,
    );
  }
  const tlsRaw = config.nats_tls;
  if (tlsRaw === undefined || tlsRaw === null || tlsRaw === false) return { servers: list };
  if (typeof tlsRaw !== "object" || Array.isArray(tlsRaw)) {
    throw new ConfigError(
      `nats_tls in ${source}: expected a mapping (ca_file, cert_file, key_file, server_name), ` +
        `got ${JSON.stringify(tlsRaw)}`,
    );
  }
  const t = tlsRaw as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (!["ca_file", "cert_file", "key_file", "server_name"].includes(key)) {
      throw new ConfigError(
        `nats_tls.${key} in ${source}: unknown option (ca_file, cert_file, key_file, server_name)`,
      );
    }
    if (typeof t[key] !== "string" || t[key] === "") {
      throw new ConfigError(`nats_tls.${key} in ${source}: expected a file path or name`);
    }
  }
  return {
    servers: list,
    tls: {
      caFile: t.ca_file as string | undefined,
      certFile: t.cert_file as string | undefined,
      keyFile: t.key_file as string | undefined,
      serverName: t.server_name as string | undefined,
    },
  };
}
