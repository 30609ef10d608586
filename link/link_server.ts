/**
 * The master's side of the minion link (Salt's request channel, on one
 * host): minions connect to `<sock_dir>/master_minion_link.ipc`, say who
 * they are, and send `_minion_event` loads that the master fires onto its
 * bus, refusing tags reserved for the master. The server knows which minions
 * are connected, and can publish to them.
 *
 * @module
 */
import { BrokerStartError } from "../bus/errors.ts";
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import { closeUnixListener, ensureSockDir, listenUnix } from "../workers/unix_listener.ts";
import { UnixChannel } from "../workers/unix_channel.ts";
import { isRecord, LinkConnection, type LinkMessage } from "./link_connection.ts";
import { masterLinkPath } from "./link_paths.ts";
import { reservedTagReason } from "./reserved_tags.ts";
import { isJid } from "../jobs/jid.ts";
import { tagify } from "../bus/tagify.ts";

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
  /** The master's socket directory. */
  sockDir: string;
  /** A client of the master bus to fire minion events on (fire-only is enough). */
  events: EventClient;
  /** Where to log. */
  log: Logger;
  /** Largest message accepted, in bytes (default 16 MiB). */
  maxFrameSize?: number;
  /** Called when a minion connects (`true`) or its connection ends (`false`). */
  onPresence?: (id: string, connected: boolean) => void;
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
 * import { startBus } from "../workers/start_bus.ts";
 * import { createLogger } from "../bus/log.ts";
 * const sockDir = await Deno.makeTempDir();
 * await using bus = await startBus({ sockDir });
 * await using server = await MinionLinkServer.listen({
 *   sockDir,
 *   events: bus.getEvent({ listen: false }),
 *   log: createLogger("info"),
 * });
 * console.log(server.minions.map((m) => m.id));
 * ```
 */
export class MinionLinkServer implements AsyncDisposable {
  /** The socket path. */
  readonly path: string;
  readonly #listener: Deno.UnixListener;
  readonly #events: EventClient;
  readonly #log: Logger;
  readonly #maxFrameSize: number | undefined;
  readonly #onPresence: ((id: string, connected: boolean) => void) | undefined;
  readonly #handlers = new Map<string, LinkHandler>();
  readonly #connections = new Set<LinkConnection>();
  readonly #minions = new Map<string, Peer>();
  readonly #known = new Map<string, Readonly<Record<string, unknown>>>();
  readonly #served = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #closed: Promise<void> | null = null;

  private constructor(path: string, listener: Deno.UnixListener, options: MinionLinkServerOptions) {
    this.path = path;
    this.#listener = listener;
    this.#events = options.events;
    this.#log = options.log;
    this.#maxFrameSize = options.maxFrameSize;
    this.#onPresence = options.onPresence;
    this.handle("_minion_event", (message, peer) => this.#minionEvent(message, peer));
    this.handle("_return", (message, peer) => this.#return(message, peer));
    this.#accepting = this.#accept();
  }

  /**
   * Listens on `<sockDir>/master_minion_link.ipc` (mode 0600; a stale file
   * is replaced, a live master is an error).
   *
   * @throws {BrokerStartError} when it cannot listen.
   */
  static async listen(options: MinionLinkServerOptions): Promise<MinionLinkServer> {
    await ensureSockDir(options.sockDir);
    const path = masterLinkPath(options.sockDir);
    const listener = await listenUnix(path, 0o600).catch((err) => {
      throw err instanceof BrokerStartError ? err : new BrokerStartError(String(err));
    });
    options.log.info(`listening for minions on ${path}`);
    return new MinionLinkServer(path, listener, options);
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
      await closeUnixListener(this.#listener, this.path);
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
      for await (const conn of this.#listener) {
        const served = this.#serve(conn).finally(() => this.#served.delete(served));
        this.#served.add(served);
      }
    } catch (err) {
      if (this.#closed === null) this.#log.error(`minion link listener failed: ${err}`);
    }
  }

  async #serve(conn: Deno.UnixConn): Promise<void> {
    const connection = new LinkConnection(new UnixChannel(conn), {
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
        this.#onPresence?.(peer.id, false);
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
      if (!earlier) this.#onPresence?.(id, true);
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

  async #minionEvent(message: LinkMessage, peer: LinkPeer): Promise<boolean> {
    const load = this.#ownLoad(message, peer);
    if (typeof load.tag !== "string" || load.tag === "") {
      throw new LinkRequestError("_minion_event needs a load with a tag");
    }
    const reason = reservedTagReason(load.tag, peer.id);
    if (reason !== null) {
      this.#log.warning(`refused event ${load.tag} from minion ${peer.id}: ${reason}`);
      throw new LinkRequestError(`event tag ${load.tag} refused: ${reason}`);
    }
    const { tok: _tok, ...event } = load;
    return await this.#fire(event, load.tag, peer);
  }

  /** A job return: fired as `salt/job/<jid>/ret/<id>` (spec §7.2). */
  async #return(message: LinkMessage, peer: LinkPeer): Promise<boolean> {
    const load = this.#ownLoad(message, peer);
    if (!isJid(load.jid)) throw new LinkRequestError(`_return without a valid jid`);
    return await this.#fire(load, tagify([load.jid, "ret", peer.id], "job"), peer);
  }

  /** The message's `load`, checked to be a mapping from the peer's own id. */
  #ownLoad(message: LinkMessage, peer: LinkPeer): Record<string, unknown> {
    const load = message.data.load;
    if (!isRecord(load)) throw new LinkRequestError(`${message.tag} needs a load`);
    if (load.id !== peer.id) {
      throw new LinkRequestError(
        `${message.tag} for id ${JSON.stringify(load.id)} on the link of ${peer.id}: refused`,
      );
    }
    return load;
  }

  async #fire(data: Record<string, unknown>, tag: string, peer: LinkPeer): Promise<boolean> {
    const sent = await this.#events.fireEvent(data, tag);
    if (!sent) this.#log.warning(`master bus unreachable: event ${tag} from ${peer.id} lost`);
    return sent;
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
    this.grains = isRecord(grains) ? grains : {};
  }

  send(tag: string, data: Record<string, unknown>): boolean {
    return this.connection.send(tag, data);
  }
}
