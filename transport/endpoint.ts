/**
 * Socket addresses as the rest of saltbus writes them: a Unix socket path
 * (`/run/…/master_event_pub.ipc`) or loopback TCP (`tcp://127.0.0.1:4512`,
 * for `ipc_mode: tcp`). This is the one place that dials and binds them.
 *
 * @module
 */
import { BrokerStartError } from "../bus/errors.ts";
import { permissionError } from "../bus/permission.ts";
import { ConnChannel } from "./conn_channel.ts";
import { clearStaleSocket } from "./sock_dir.ts";

/** A parsed socket address. */
export type Endpoint =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

/**
 * Parses an address: `tcp://host:port`, else a Unix socket path.
 *
 * @example
 * ```ts
 * import { parseEndpoint } from "./endpoint.ts";
 * parseEndpoint("tcp://127.0.0.1:4512"); // { transport: "tcp", hostname: "127.0.0.1", port: 4512 }
 * parseEndpoint("/tmp/m/master_event_pub.ipc"); // { transport: "unix", path: "/tmp/m/…" }
 * ```
 */
export function parseEndpoint(address: string): Endpoint {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (tcp) {
    return { transport: "tcp", hostname: tcp[1].replace(/^\[|\]$/g, ""), port: Number(tcp[2]) };
  }
  return { transport: "unix", path: address };
}

/**
 * Connects to `address` and wraps the connection as a byte channel.
 *
 * @throws {PermissionError} when Deno refuses the connection (naming the flag);
 * otherwise the connection error (nothing listens there).
 * @example
 * ```ts
 * import { dialEndpoint } from "./endpoint.ts";
 * const channel = await dialEndpoint("tcp://127.0.0.1:4513");
 * channel.close();
 * ```
 */
export async function dialEndpoint(address: string): Promise<ConnChannel> {
  const endpoint = parseEndpoint(address);
  try {
    const conn = endpoint.transport === "tcp"
      ? await Deno.connect({ hostname: endpoint.hostname, port: endpoint.port })
      : await Deno.connect({ transport: "unix", path: endpoint.path });
    if (endpoint.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
    return new ConnChannel(conn);
  } catch (err) {
    throw permissionError(err, `connecting to ${address}`) ?? err;
  }
}

/** A bound listener and how to close it (a Unix socket's file is removed). */
export interface BoundListener {
  /** The address it listens on (for TCP port 0: the port the system chose). */
  readonly address: string;
  /** The connections, as they come; ends when closed. */
  accept(): AsyncIterable<ConnChannel>;
  /** Stops listening; removes a Unix socket's file. */
  close(): Promise<void>;
}

/**
 * Binds `address`. A Unix socket gets file mode `mode` and replaces a stale
 * file (a live broker on it is an error); TCP binds the given loopback host
 * and port, where file modes mean nothing.
 *
 * @throws {BrokerStartError} when it cannot bind, naming the address.
 * @example
 * ```ts
 * import { listenEndpoint } from "./endpoint.ts";
 * const listener = await listenEndpoint("tcp://127.0.0.1:0", 0o600);
 * console.log(listener.address); // e.g. "tcp://127.0.0.1:40123"
 * await listener.close();
 * ```
 */
export async function listenEndpoint(address: string, mode: number): Promise<BoundListener> {
  const endpoint = parseEndpoint(address);
  let listener: Deno.Listener;
  try {
    if (endpoint.transport === "unix") await clearStaleSocket(endpoint.path);
    listener = endpoint.transport === "tcp"
      ? Deno.listen({ hostname: endpoint.hostname, port: endpoint.port })
      : Deno.listen({ transport: "unix", path: endpoint.path });
  } catch (err) {
    if (err instanceof BrokerStartError) throw err;
    throw permissionError(err, `listening on ${address}`) ??
      new BrokerStartError(`cannot listen on ${address}: ${messageOf(err)}`, { cause: err });
  }
  if (endpoint.transport === "unix") {
    try {
      await Deno.chmod(endpoint.path, mode);
    } catch (err) {
      listener.close();
      throw new BrokerStartError(
        `cannot set mode ${mode.toString(8)} on ${endpoint.path}: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }
  const bound = endpoint.transport === "tcp"
    ? `tcp://${endpoint.hostname}:${(listener.addr as Deno.NetAddr).port}`
    : address;
  let closed = false;
  return {
    address: bound,
    async *accept() {
      try {
        for await (const conn of listener) {
          if (endpoint.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
          yield new ConnChannel(conn);
        }
      } catch (err) {
        if (!closed && !(err instanceof Deno.errors.BadResource)) throw err;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      if (endpoint.transport === "unix") await Deno.remove(endpoint.path).catch(() => {});
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
