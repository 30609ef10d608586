/**
 * The two ends of the master↔minion link, whatever carries it: a
 * {@linkcode LinkDialer} on the minion's (or a client's) side, a
 * {@linkcode LinkListener} on the master's. The Unix socket
 * (link_transport.ts) and NATS (nats_link.ts) implement them.
 *
 * @module
 */
import type { ByteChannel } from "../bus/transport.ts";

/**
 * Opens connections to the master's link.
 *
 * @example
 * ```ts
 * import type { LinkDialer } from "./link_endpoints.ts";
 * declare const dialer: LinkDialer;
 * const channel = await dialer.dial();
 * channel.close();
 * ```
 */
export interface LinkDialer {
  /** Connects; rejects when the master is not there. */
  dial(): Promise<ByteChannel>;
  /** Where the master is, for messages. */
  describe(): string;
  /** Releases what the dialer holds (a NATS connection); sockets hold nothing. */
  close?(): Promise<void>;
}

/**
 * The master's side: accepts link connections.
 *
 * @example
 * ```ts
 * import type { LinkListener } from "./link_endpoints.ts";
 * declare const listener: LinkListener;
 * for await (const channel of listener.accept()) channel.close();
 * ```
 */
export interface LinkListener {
  /** Where it listens, for messages. */
  readonly address: string;
  /** The connections, as they come; ends when closed (accept errors are retried). */
  accept(): AsyncIterable<ByteChannel>;
  /** Stops listening (its socket file is removed if it is still this listener's). */
  close(): Promise<void>;
}
