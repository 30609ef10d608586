/**
 * A server WebSocket on a connection the API read the upgrade request from
 * itself: Deno's own WebSocket implementation, reached through the
 * `socket` option of `Deno.upgradeWebSocket` (made for `node:http`
 * sockets), given an adapter that writes the `101` response on the
 * `Deno.Conn` and hands its stream over.
 *
 * @module
 */
import { SaltbusError } from "../bus/errors.ts";

/**
 * The upgrade cannot be made: not a WebSocket request, or this Deno's
 * `Deno.upgradeWebSocket` does not take a raw stream.
 *
 * @example
 * ```ts
 * import { WebSocketUpgradeError } from "./raw_websocket.ts";
 * console.log(new WebSocketUpgradeError("no Sec-WebSocket-Key").name); // "WebSocketUpgradeError"
 * ```
 */
export class WebSocketUpgradeError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WebSocketUpgradeError";
  }
}

/**
 * Whether a request asks for a WebSocket (`GET` with `Upgrade: websocket`
 * and `Connection: upgrade`).
 *
 * @example
 * ```ts
 * import { isWebSocketRequest } from "./raw_websocket.ts";
 * isWebSocketRequest(new Request("http://x/ws")); // false
 * ```
 */
export function isWebSocketRequest(req: Request): boolean {
  return req.method === "GET" &&
    (req.headers.get("upgrade") ?? "").toLowerCase().split(",").some((v) =>
      v.trim() === "websocket"
    ) &&
    (req.headers.get("connection") ?? "").toLowerCase().split(",").some((v) =>
      v.trim() === "upgrade"
    );
}

function ridOf(conn: Deno.Conn): number {
  const symbol = Object.getOwnPropertySymbols(conn).find((s) =>
    s.description === "Deno.internal.rid"
  );
  const rid = symbol === undefined
    ? undefined
    : (conn as unknown as Record<symbol, unknown>)[symbol];
  if (typeof rid !== "number") {
    throw new WebSocketUpgradeError("this Deno does not expose the connection's stream");
  }
  return rid;
}

/**
 * Upgrades `req`, read from `conn`, to a WebSocket. The `101` response is
 * written on `conn` (asynchronously); the returned `response` is only a
 * marker. `extra` holds bytes already read past the request head. The
 * socket fires `open` once the connection is its own.
 *
 * @throws {WebSocketUpgradeError} when `req` is not a WebSocket request.
 * @example
 * ```ts
 * import { upgradeRawWebSocket } from "./raw_websocket.ts";
 * declare const conn: Deno.Conn;
 * declare const req: Request;
 * const { socket } = upgradeRawWebSocket(conn, req, new Uint8Array());
 * socket.onmessage = (e) => socket.send(String(e.data));
 * ```
 */
export function upgradeRawWebSocket(
  conn: Deno.Conn,
  req: Request,
  extra: Uint8Array,
): Deno.WebSocketUpgrade {
  if (!isWebSocketRequest(req)) {
    throw new WebSocketUpgradeError("this is not a WebSocket upgrade request");
  }
  const rid = ridOf(conn);
  const encoder = new TextEncoder();
  const adapter = {
    destroyed: false,
    write(data: string, callback: (err?: Error) => void): boolean {
      (async () => {
        const bytes = encoder.encode(data);
        for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      })().then(() => callback(), (err) => callback(err));
      return true;
    },
    _handle: {
      readStop: () => 0,
      takeStream: () => rid,
    },
  };
  try {
    return Deno.upgradeWebSocket(req, {
      socket: adapter,
      head: extra,
    } as unknown as Deno.UpgradeWebSocketOptions);
  } catch (err) {
    throw new WebSocketUpgradeError(
      `cannot upgrade to a WebSocket: ${err instanceof Error ? err.message : err}`,
      { cause: err },
    );
  }
}
