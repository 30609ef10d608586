/**
 * The master's side of the minion link (Salt's request channel): minions
 * connect through a {@linkcode LinkListener}, say who they are with `_hello`,
 * then send commands that the handlers set by the master's components answer
 * (`_minion_event`, `_return`, …). The server knows which minions are
 * connected, and can publish to them. {@linkcode ownLoad} holds a peer to the
 * id it said hello with.
 *
 * Identities: a second `minion` hello for an id that is connected is refused
 * (the newcomer gets `_refused` and is closed; the live one stays) unless the
 * live one has been silent for {@linkcode HEARTBEAT_MISSES} of its heartbeat
 * intervals. Minions that went away stay `known` (for `manage.down` and
 * `[Not connected]`) for a while, and only so many of them.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import type { ByteChannel } from "../bus/transport.ts";
import type { LinkListener } from "../transport/link_transport.ts";
import { isMapping } from "../bus/mapping.ts";
import { LinkConnection, type LinkMessage } from "./link_connection.ts";
import { PublishedJobs, type PublishedJobsOptions } from "./published_jobs.ts";

/** What a minion on another host (an authenticated network link) may send after its hello. */
const REMOTE_COMMANDS = new Set(["_minion_event", "_return", "_ping"]);

/** Default heartbeat interval of a minion's link, in ms (`link_heartbeat_interval: 5`). */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/** Heartbeats a connected minion may miss before another hello may replace it. */
export const HEARTBEAT_MISSES = 3;

/** Default time a minion that went away stays known, in ms (`known_minions_expire: 86400`). */
export const DEFAULT_KNOWN_EXPIRE_MS = 24 * 60 * 60 * 1000;

/** Default number of minions kept known while disconnected (`known_minions_max`). */
export const DEFAULT_KNOWN_MAX = 10_000;

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
  /** When the master last heard from it (any message, heartbeats included). */
  readonly lastHeard: Date;
  /** The heartbeat interval it announced in its hello, in ms (else the default). */
  readonly heartbeatMs: number;
  /** True once its connection is gone. */
  readonly closed: boolean;
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
  /**
   * How long a minion that went away stays known, in ms.
   *
   * @default {86400000}
   */
  knownExpireMs?: number;
  /**
   * Most minions kept known while disconnected; the one gone longest is
   * forgotten first.
   *
   * @default {10000}
   */
  knownMax?: number;
  /** Bounds of the registry of published jobs ({@linkcode MinionLinkServer.jobs}). */
  jobs?: PublishedJobsOptions;
  /** The clock (for tests). Default `Date.now`. */
  now?: () => number;
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
  /** The jobs published to minions, and the returns still expected for them. */
  readonly jobs: PublishedJobs;
  readonly #listener: LinkListener;
  readonly #log: Logger;
  readonly #maxFrameSize: number | undefined;
  readonly #presenceListeners: ((id: string, connected: boolean) => void)[] = [];
  readonly #handlers = new Map<string, LinkHandler>();
  readonly #connections = new Set<LinkConnection>();
  readonly #minions = new Map<string, Peer>();
  /** Known minions, ordered by when they were last seen (connected or left). */
  readonly #known = new Map<string, KnownMinion>();
  readonly #knownExpireMs: number;
  readonly #knownMax: number;
  readonly #now: () => number;
  #forgotten = 0;
  #forgottenLoggedAt = -Infinity;
  readonly #served = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #closed: Promise<void> | null = null;

  private constructor(options: MinionLinkServerOptions) {
    this.path = options.listener.address;
    this.#listener = options.listener;
    this.#log = options.log;
    this.#maxFrameSize = options.maxFrameSize;
    this.#knownExpireMs = options.knownExpireMs ?? DEFAULT_KNOWN_EXPIRE_MS;
    this.#knownMax = options.knownMax ?? DEFAULT_KNOWN_MAX;
    this.#now = options.now ?? Date.now;
    this.jobs = new PublishedJobs({ now: this.#now, ...options.jobs });
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

  /**
   * The minions connected now and those that went away within
   * `knownExpireMs` (at most `knownMax` of those), sorted.
   */
  get known(): string[] {
    this.#forgetExpired();
    return [...this.#known.keys()].sort();
  }

  /**
   * The grains minion `id` announced when it last connected (kept after it
   * disconnects, as Salt's grains cache, while it is known), or `undefined`
   * for an unknown id.
   */
  grainsOf(id: string): Readonly<Record<string, unknown>> | undefined {
    return this.#known.get(id)?.grains;
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
   * Sends a message to every connected minion, or to those of `to` that are
   * connected; returns how many got it.
   *
   * @example
   * ```ts
   * import type { MinionLinkServer } from "./link_server.ts";
   * declare const server: MinionLinkServer;
   * server.publish("_publish", { jid: "20240501123456789012", fun: "test.ping" });
   * ```
   */
  publish(tag: string, data: Record<string, unknown>, to?: Iterable<string>): number {
    let sent = 0;
    if (to === undefined) {
      for (const minion of this.#minions.values()) if (minion.send(tag, data)) sent++;
    } else {
      for (const id of to) if (this.#minions.get(id)?.send(tag, data)) sent++;
    }
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
          const hello = this.#hello(message, connection, channel.authenticatedId);
          if (typeof hello === "string") {
            connection.send("_refused", { error: hello });
            await connection.drain();
            return;
          }
          peer = hello;
          continue;
        }
        peer.heard(this.#now());
        if (message.tag === "_heartbeat") continue;
        if (channel.authenticatedId !== undefined && !REMOTE_COMMANDS.has(message.tag)) {
          // A minion on another host speaks for itself only: no jobs, no manage.
          const mid = message.data.mid;
          this.#log.warning(
            `minion link: refused ${message.tag} from minion ${peer.id} over the network: ` +
              "only the master's own host may publish jobs or ask manage requests",
          );
          if (mid !== undefined) {
            peer.send("_reply", {
              mid,
              ok: false,
              error: `${message.tag} is not allowed from a minion on another host`,
            });
          }
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
        this.#seen(peer.id, peer.grains);
        this.#log.info(`minion ${peer.id} disconnected`);
        for (const listener of this.#presenceListeners) listener(peer.id, false);
      }
    }
  }

  /** The peer a `_hello` makes, or why it is refused (for a second live minion). */
  #hello(
    message: LinkMessage,
    connection: LinkConnection,
    authenticatedId: string | undefined,
  ): Peer | string {
    const { role, id, pid, grains, heartbeat_ms } = message.data;
    if (message.tag !== "_hello" || (role !== "minion" && role !== "client")) {
      throw new LinkRequestError(`expected _hello first, got ${JSON.stringify(message.tag)}`);
    }
    if (typeof id !== "string" || id === "") throw new LinkRequestError("_hello without an id");
    if (authenticatedId !== undefined && id !== authenticatedId) {
      this.#log.warning(
        `minion link: refused a hello as ${JSON.stringify(id)} on the link of minion ` +
          `${authenticatedId}: a minion may only act as itself`,
      );
      return `this link is minion ${authenticatedId}'s: it cannot say hello as ${id}`;
    }
    const now = this.#now();
    const heartbeatMs = typeof heartbeat_ms === "number" && Number.isFinite(heartbeat_ms) &&
        heartbeat_ms > 0
      ? heartbeat_ms
      : DEFAULT_HEARTBEAT_MS;
    const peer = new Peer(
      role,
      id,
      typeof pid === "number" ? pid : null,
      grains,
      connection,
      heartbeatMs,
      now,
    );
    if (role === "minion") {
      const earlier = this.#minions.get(id);
      if (earlier) {
        const silentMs = now - earlier.lastHeardMs;
        if (!earlier.closed && silentMs < HEARTBEAT_MISSES * earlier.heartbeatMs) {
          this.#log.warning(
            `refused a second connection for minion ${id} (pid ${peer.pid ?? "?"}): ` +
              `minion ${id} is connected (pid ${earlier.pid ?? "?"}) and alive`,
          );
          return `minion ${id} is already connected (pid ${earlier.pid ?? "?"}) and alive: ` +
            `one connection per minion id; stop the other minion or give this one another id`;
        }
        this.#log.warning(
          `minion ${id} connected again and its earlier connection (pid ${
            earlier.pid ?? "?"
          }) was silent for ${silentMs} ms (${HEARTBEAT_MISSES} heartbeats missed): closing it`,
        );
        earlier.connection.close();
      }
      this.#minions.set(id, peer);
      this.#seen(id, peer.grains);
      this.#log.info(`minion ${id} connected (pid ${peer.pid ?? "?"})`);
      if (!earlier) { for (const listener of this.#presenceListeners) listener(id, true); }
    }
    connection.send("_welcome", { id });
    return peer;
  }

  /** Records that minion `id` was seen now (it moves to the back of the order). */
  #seen(id: string, grains: Readonly<Record<string, unknown>>): void {
    this.#known.delete(id);
    this.#known.set(id, { grains, seen: this.#now() });
    this.#forgetExpired();
    let over = this.#known.size - this.#minions.size - this.#knownMax;
    if (over <= 0) return;
    let forgotten = 0;
    for (const known of this.#known.keys()) {
      if (over <= 0) break;
      if (this.#minions.has(known)) continue;
      this.#known.delete(known);
      over--;
      forgotten++;
    }
    this.#noteForgotten(forgotten, `more than ${this.#knownMax} minions known while away`);
  }

  /** Forgets minions that went away more than `knownExpireMs` ago. */
  #forgetExpired(): void {
    const horizon = this.#now() - this.#knownExpireMs;
    let forgotten = 0;
    for (const [id, known] of this.#known) {
      if (known.seen > horizon) break; // the rest were seen later
      if (this.#minions.has(id)) continue;
      this.#known.delete(id);
      forgotten++;
    }
    this.#noteForgotten(forgotten, `not seen for ${this.#knownExpireMs / 1000} s`);
  }

  /** Logs forgotten minions: at once, then at most once a minute (a flood of hellos). */
  #noteForgotten(count: number, why: string): void {
    if (count === 0) return;
    this.#forgotten += count;
    const now = this.#now();
    if (now - this.#forgottenLoggedAt < 60_000) return;
    this.#forgottenLoggedAt = now;
    const n = this.#forgotten;
    this.#forgotten = 0;
    this.#log.info(`forgot ${n} minion${n === 1 ? "" : "s"} that went away (${why})`);
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

interface KnownMinion {
  readonly grains: Readonly<Record<string, unknown>>;
  /** When it last connected or went away (ms). */
  readonly seen: number;
}

class Peer implements LinkPeer {
  readonly since: Date;
  readonly grains: Readonly<Record<string, unknown>>;
  lastHeardMs: number;

  constructor(
    readonly role: "minion" | "client",
    readonly id: string,
    readonly pid: number | null,
    grains: unknown,
    readonly connection: LinkConnection,
    readonly heartbeatMs: number,
    now: number,
  ) {
    this.grains = isMapping(grains) ? grains : {};
    this.since = new Date(now);
    this.lastHeardMs = now;
  }

  get lastHeard(): Date {
    return new Date(this.lastHeardMs);
  }

  get closed(): boolean {
    return this.connection.closed;
  }

  heard(now: number): void {
    this.lastHeardMs = now;
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
