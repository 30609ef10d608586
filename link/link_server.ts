/**
 * The master's side of the minion link (Salt's request channel): minions
 * connect through a {@linkcode LinkListener}, say who they are with `_hello`,
 * then send commands that the handlers set by the master's components answer
 * (`_minion_event`, `_return`, …). The server knows which minions are
 * connected, and can publish to them. {@linkcode ownLoad} holds a peer to the
 * id it said hello with.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import type { ByteChannel } from "../bus/transport.ts";
import type { LinkListener } from "../transport/link_transport.ts";
import { isMapping } from "../bus/mapping.ts";
import { LinkConnection, type LinkMessage } from "./link_connection.ts";

/** Who is on the other end of a link connection. */
export interface LinkPeer {
  /** `minion` for a minion daemon; `client` for a one-shot caller (`call`, a script). */
  readonly role: "minion" | "client";
  /** The minion id it speaks for. */
  readonly id: string;
  /** Its process id, as it said. */
  readonly pid: number | null;
  /** The grains it announced (minions). */
  readonly grains: Readonly<Record<string, unknown>>;
  /** When it connected. */
  readonly since: Date;
  /** Sends it a message; `false` when it is gone. */
  send(tag: string, data: Record<string, unknown>): boolean;
}

/**
 * Handles one link command. The result goes back to the peer in a `_reply`
 * when the message carried a `mid`; a thrown error goes back as
 * `{ ok: false, error }`.
 */
export type LinkHandler = (message: LinkMessage, peer: LinkPeer) => unknown;

/** Options of {@linkcode MinionLinkServer.listen}. */
export interface MinionLinkServerOptions {
  /** Where minions connect (from `listenLink()` in the transport layer). */
  listener: LinkListener;
  /** Where to log. */
  log: Logger;
  /** Largest message accepted, in bytes (default 16 MiB). */
  maxFrameSize?: number;
}

/** Refusal of a minion's request; the message goes back to the minion. */
export class LinkRequestError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "LinkRequestError";
  }
}

/**
 * The master's listener for minions.
 *
 * @example
 * ```ts
 * import { MinionLinkServer } from "./link_server.ts";
 * import { listenLink } from "../transport/link_transport.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * import { createLogger } from "../bus/log.ts";
 * const config = resolveConfig("master", { sock_dir: await Deno.makeTempDir() });
 * await using server = MinionLinkServer.listen({
 *   listener: await listenLink(config),
 *   log: createLogger("info"),
 * });
 * console.log(server.minions.map((m) => m.id));
 * ```
 */
export class MinionLinkServer implements AsyncDisposable {
  /** Where it listens. */
  readonly path: string;
  readonly #listener: LinkListener;
  readonly #log: Logger;
  readonly #maxFrameSize: number | undefined;
  readonly #presenceListeners: ((id: string, connected: boolean) => void)[] = [];
  readonly #handlers = new Map<string, LinkHandler>();
  readonly #connections = new Set<LinkConnection>();
  readonly #minions = new Map<string, Peer>();
  readonly #known = new Map<string, Readonly<Record<string, unknown>>>();
  readonly #served = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #closed: Promise<void> | null = null;

  private constructor(options: MinionLinkServerOptions) {
    this.path = options.listener.address;
    this.#listener = options.listener;
    this.#log = options.log;
    this.#maxFrameSize = options.maxFrameSize;
    this.#accepting = this.#accept();
  }

  /**
   * Serves minions on `options.listener`. Commands other than `_hello` are
   * answered by the handlers set with {@linkcode handle}; the master's
   * components set them (`_minion_event`, `_return`, `_publish`, …).
   */
  static listen(options: MinionLinkServerOptions): MinionLinkServer {
    options.log.info(`listening for minions on ${options.listener.address}`);
    return new MinionLinkServer(options);
  }

  /** The minions connected now, sorted by id. */
  get minions(): LinkPeer[] {
    return [...this.#minions.values()].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  /** Every minion id that has connected since the master started, sorted. */
  get known(): string[] {
    return [...this.#known.keys()].sort();
  }

  /**
   * The grains minion `id` announced when it last connected (kept after it
   * disconnects, as Salt's grains cache), or `undefined` for an unknown id.
   */
  grainsOf(id: string): Readonly<Record<string, unknown>> | undefined {
    return this.#known.get(id);
  }

  /** True when minion `id` is connected now. */
  isConnected(id: string): boolean {
    return this.#minions.has(id);
  }

  /**
   * Calls `listener` when a minion connects (`true`) or its last connection
   * ends (`false`).
   *
   * @example
   * ```ts
   * import type { MinionLinkServer } from "./link_server.ts";
   * declare const server: MinionLinkServer;
   * server.onPresence((id, connected) => console.log(id, connected ? "up" : "down"));
   * ```
   */
  onPresence(listener: (id: string, connected: boolean) => void): void {
    this.#presenceListeners.push(listener);
  }

  /**
   * Sets the handler of a link command (replacing any earlier one).
   *
   * @example
   * ```ts
   * import type { MinionLinkServer } from "./link_server.ts";
   * declare const server: MinionLinkServer;
   * server.handle("_ping", () => "pong");
   * ```
   */
  handle(tag: string, handler: LinkHandler): void {
    this.#handlers.set(tag, handler);
  }

  /**
   * Sends a message to every connected minion; resolves how many got it.
   *
   * @example
   * ```ts
   * import type { MinionLinkServer } from "./link_server.ts";
   * declare const server: MinionLinkServer;
   * server.publish("_publish", { jid: "20240501123456789012", fun: "test.ping" });
   * ```
   */
  publish(tag: string, data: Record<string, unknown>): number {
    let sent = 0;
    for (const minion of this.#minions.values()) if (minion.send(tag, data)) sent++;
    return sent;
  }

  /** Stops listening and closes every connection; the socket file is removed. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#listener.close();
      await this.#accepting;
      for (const connection of this.#connections) connection.close();
      await Promise.all(this.#served);
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener.accept()) {
        const served = this.#serve(conn).finally(() => this.#served.delete(served));
        this.#served.add(served);
      }
    } catch (err) {
      if (this.#closed === null) this.#log.error(`minion link listener failed: ${err}`);
    }
  }

  async #serve(channel: ByteChannel): Promise<void> {
    const connection = new LinkConnection(channel, {
      maxFrameSize: this.#maxFrameSize,
    });
    this.#connections.add(connection);
    let peer: Peer | null = null;
    try {
      for await (const message of connection.messages()) {
        if (peer === null) {
          peer = this.#hello(message, connection);
          continue;
        }
        await this.#dispatch(message, peer);
      }
    } catch (err) {
      const who = peer ? `${peer.role} ${peer.id}` : "an unidentified peer";
      this.#log.warning(
        `minion link: closing the connection of ${who}: ${
          err instanceof Error ? err.message : err
        }`,
      );
    } finally {
      connection.close();
      this.#connections.delete(connection);
      if (peer?.role === "minion" && this.#minions.get(peer.id) === peer) {
        this.#minions.delete(peer.id);
        this.#log.info(`minion ${peer.id} disconnected`);
        for (const listener of this.#presenceListeners) listener(peer.id, false);
      }
    }
  }

  #hello(message: LinkMessage, connection: LinkConnection): Peer {
    const { role, id, pid, grains } = message.data;
    if (message.tag !== "_hello" || (role !== "minion" && role !== "client")) {
      throw new LinkRequestError(`expected _hello first, got ${JSON.stringify(message.tag)}`);
    }
    if (typeof id !== "string" || id === "") throw new LinkRequestError("_hello without an id");
    const peer = new Peer(role, id, typeof pid === "number" ? pid : null, grains, connection);
    if (role === "minion") {
      const earlier = this.#minions.get(id);
      if (earlier) {
        this.#log.warning(`minion ${id} connected again; closing its earlier connection`);
        earlier.connection.close();
      }
      this.#minions.set(id, peer);
      this.#known.set(id, peer.grains);
      this.#log.info(`minion ${id} connected (pid ${peer.pid ?? "?"})`);
      if (!earlier) { for (const listener of this.#presenceListeners) listener(id, true); }
    }
    connection.send("_welcome", { id });
    return peer;
  }

  async #dispatch(message: LinkMessage, peer: Peer): Promise<void> {
    const mid = message.data.mid;
    const handler = this.#handlers.get(message.tag);
    let reply: Record<string, unknown>;
    try {
      if (!handler) throw new LinkRequestError(`unknown command ${JSON.stringify(message.tag)}`);
      reply = { ok: true, result: (await handler(message, peer)) ?? null };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (!(err instanceof LinkRequestError)) {
        this.#log.error(`minion link: ${message.tag} from ${peer.id} failed: ${error}`);
      }
      reply = { ok: false, error };
    }
    if (mid !== undefined) peer.send("_reply", { mid, ...reply });
  }
}

class Peer implements LinkPeer {
  readonly since = new Date();
  readonly grains: Readonly<Record<string, unknown>>;

  constructor(
    readonly role: "minion" | "client",
    readonly id: string,
    readonly pid: number | null,
    grains: unknown,
    readonly connection: LinkConnection,
  ) {
    this.grains = isMapping(grains) ? grains : {};
  }

  send(tag: string, data: Record<string, unknown>): boolean {
    return this.connection.send(tag, data);
  }
}

/**
 * The message's `load`, checked to be a mapping for the peer's own id: a link
 * may only speak for the id it said hello with.
 *
 * @throws {LinkRequestError} for a missing load or another id.
 * @example
 * ```ts
 * import { ownLoad, type LinkPeer } from "./link_server.ts";
 * declare const peer: LinkPeer; // id "web1"
 * ownLoad({ tag: "_return", data: { load: { id: "web1", jid: "1" } } }, peer); // { id: "web1", jid: "1" }
 * ```
 */
export function ownLoad(message: LinkMessage, peer: LinkPeer): Record<string, unknown> {
  const load = message.data.load;
  if (!isMapping(load)) throw new LinkRequestError(`${message.tag} needs a load`);
  if (load.id !== peer.id) {
    throw new LinkRequestError(
      `${message.tag} for id ${JSON.stringify(load.id)} on the link of ${peer.id}: refused`,
    );
  }
  return load;
}
