/**
 * The minion's side of the minion link: a connection to the master that
 * comes back by itself. While the master is away, messages wait in a bounded
 * queue and go out in order once it is back; what overflows is counted and
 * logged. A connection counts once the master has welcomed its `_hello`; a
 * master that refuses it (`_refused`, e.g. another live minion with the same
 * id) is logged and tried again with back-off. With `heartbeatMs`, the link
 * sends `_heartbeat` while connected, so the master can tell a live minion
 * from a hung one.
 *
 * @module
 */
import { Backoff, raceDeadline, TIMED_OUT } from "../bus/async.ts";
import { SaltbusError } from "../bus/errors.ts";
import type { Logger } from "../bus/log.ts";
import { permissionError } from "../bus/permission.ts";
import type { LinkDialer } from "../transport/link_transport.ts";
import { LinkConnection, type LinkMessage } from "./link_connection.ts";

/** Default bound of the queue kept while the master is away (messages). */
export const DEFAULT_MASTER_QUEUE_SIZE = 10_000;

/** How long a new connection waits for the master's `_welcome`, in ms. */
export const WELCOME_TIMEOUT_MS = 10_000;

/** The master refused a request, or did not answer it. */
export class MasterRequestError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MasterRequestError";
  }
}

/** Options of {@linkcode MasterLink}. */
export interface MasterLinkOptions {
  /** How to reach the master (`linkDialerFor(config)` in the transport layer). */
  dialer: LinkDialer;
  /** The `_hello` data sent on every (re)connection: `{ role, id, pid, grains }`. */
  hello: () => Record<string, unknown>;
  /** Where to log. */
  log: Logger;
  /** Messages kept while the master is away (default 10,000). */
  queueSize?: number;
  /** First reconnection delay in ms (default 250), doubled up to `reconnectMaxMs`. */
  reconnectMs?: number;
  /** Longest reconnection delay in ms (default 2000). */
  reconnectMaxMs?: number;
  /**
   * Send `_heartbeat` every this many ms while connected, and announce it in
   * the hello as `heartbeat_ms` (a minion daemon's link; from
   * `link_heartbeat_interval`). Default: no heartbeats.
   */
  heartbeatMs?: number;
  /** Called for each message from the master other than replies. */
  onMessage?: (message: LinkMessage) => void;
  /** Called each time the link (re)connects. */
  onConnect?: () => void;
  /**
   * Keep the process alive while the link is idle (a daemon's link). Default
   * false: an idle link, its reads and its reconnection waits never hold a
   * script open; a pending `request()` or `waitConnected()` does.
   */
  keepAlive?: boolean;
}

/** Counters of a {@linkcode MasterLink}. */
export interface MasterLinkStats {
  /** Messages handed to the connection. */
  sent: number;
  /** Messages waiting for the master now. */
  queued: number;
  /** Messages dropped because the queue was full, since the link started. */
  dropped: number;
  /** Connections made (the first one included). */
  connections: number;
  /** Connections the master refused (`_refused`), since the link started. */
  refused: number;
}

/**
 * A self-healing connection from a minion to its master.
 *
 * @example
 * ```ts
 * import { MasterLink } from "./master_link.ts";
 * import { SocketLinkDialer } from "../transport/link_transport.ts";
 * import { createLogger } from "../bus/log.ts";
 * await using link = new MasterLink({
 *   dialer: new SocketLinkDialer("/tmp/m/master_minion_link.ipc"),
 *   hello: () => ({ role: "minion", id: "web1", pid: Deno.pid }),
 *   log: createLogger("info"),
 * });
 * link.send("_minion_event", { load: { cmd: "_minion_event", id: "web1", tag: "my/tag", data: {} } });
 * ```
 */
export class MasterLink implements AsyncDisposable {
  readonly #options: MasterLinkOptions;
  readonly #queueSize: number;
  #queue: LinkMessage[] = [];
  #connection: LinkConnection | null = null;
  #closing = false;
  #running: Promise<void>;
  readonly #stop = new AbortController();
  #permissionProblem: Error | null = null;
  #connectedWaiters: ((err?: Error) => void)[] = [];
  #requests = new Map<number, PromiseWithResolvers<unknown>>();
  #nextMid = 1;
  #droppedWhileAway = 0;
  readonly #stats = { sent: 0, dropped: 0, connections: 0, refused: 0 };
  #refusedLogged = false;

  /** Starts connecting at once, and keeps reconnecting until closed. */
  constructor(options: MasterLinkOptions) {
    this.#options = options;
    this.#queueSize = options.queueSize ?? DEFAULT_MASTER_QUEUE_SIZE;
    this.#running = this.#run();
  }

  /** True while connected to the master. */
  get connected(): boolean {
    return this.#connection !== null && !this.#connection.closed;
  }

  /** Counters: sent, queued, dropped, connections. */
  get stats(): MasterLinkStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /**
   * Resolves `true` once connected, or `false` after `timeoutMs`.
   *
   * @throws {PermissionError} when Deno refuses the connection (the flag to add is named).
   */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.#permissionProblem) return Promise.reject(this.#permissionProblem);
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(true);
      };
      const timer = setTimeout(() => {
        this.#connectedWaiters = this.#connectedWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.#connectedWaiters.push(done);
    });
  }

  /**
   * Sends a message now, or queues it while the master is away. Returns
   * `false` when it was dropped (the queue is full, or the link is closed).
   */
  send(tag: string, data: Record<string, unknown>): boolean {
    if (this.#closing) return false;
    if (this.#queue.length === 0 && this.#connection?.send(tag, data)) {
      this.#stats.sent++;
      return true;
    }
    if (this.#queue.length >= this.#queueSize) {
      this.#stats.dropped++;
      if (this.#droppedWhileAway++ === 0) {
        this.#options.log.warning(
          `master away and ${this.#queueSize} messages queued: dropping new ones until it is back`,
        );
      }
      return false;
    }
    this.#queue.push({ tag, data });
    return true;
  }

  /**
   * Sends a request and waits for the master's reply.
   *
   * @throws {MasterRequestError} when the master refuses it, or does not
   * answer within `timeoutMs` (default 5 s).
   */
  async request(tag: string, data: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    const mid = this.#nextMid++;
    const reply = Promise.withResolvers<unknown>();
    this.#requests.set(mid, reply);
    const timer = setTimeout(
      () => reply.reject(new MasterRequestError(`no answer from the master to ${tag}`)),
      timeoutMs,
    );
    try {
      if (!this.send(tag, { ...data, mid })) {
        throw new MasterRequestError(`${tag} not sent: the link is closed or its queue is full`);
      }
      return await reply.promise;
    } finally {
      clearTimeout(timer);
      this.#requests.delete(mid);
    }
  }

  /** Writes what is queued, then closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      await this.#connection?.drain();
      this.#connection?.close();
      this.#stop.abort();
    }
    await this.#running;
    await this.#options.dialer.close?.();
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    const { log, dialer } = this.#options;
    const where = dialer.describe();
    const backoff = new Backoff({
      initialMs: this.#options.reconnectMs ?? 250,
      maxMs: this.#options.reconnectMaxMs ?? 2000,
    });
    const unref = !this.#options.keepAlive;
    let waitingLogged = false;
    while (!this.#closing) {
      let channel;
      try {
        channel = await dialer.dial();
      } catch (err) {
        const denied = permissionError(err, `reaching the master at ${where}`);
        if (denied) this.#failWaiters(denied);
        if (!waitingLogged) {
          log.info(`waiting for the master at ${where} (${(err as Error).message})`);
          waitingLogged = true;
        }
        await backoff.wait({ signal: this.#stop.signal, unref });
        continue;
      }
      if (this.#closing) {
        channel.close();
        break;
      }
      if (unref) channel.unref?.();
      waitingLogged = false;
      const welcomed = await this.#session(new LinkConnection(channel), () => backoff.reset());
      // Refused, or no welcome: try again later, not at once.
      if (!welcomed && !this.#closing) await backoff.wait({ signal: this.#stop.signal, unref });
    }
  }

  /** Fails pending `waitConnected()` calls at once (a permission that will not come). */
  #failWaiters(err: Error): void {
    this.#permissionProblem = err;
    for (const waiter of this.#connectedWaiters.splice(0)) waiter(err);
  }

  /** Says hello; once welcomed, serves the connection until it ends. Resolves whether welcomed. */
  async #session(connection: LinkConnection, onWelcome: () => void): Promise<boolean> {
    const { log } = this.#options;
    const path = this.#options.dialer.describe();
    const heartbeatMs = this.#options.heartbeatMs;
    const hello = this.#options.hello();
    connection.send("_hello", heartbeatMs ? { ...hello, heartbeat_ms: heartbeatMs } : hello);
    const messages = connection.messages();
    let first;
    try {
      first = await raceDeadline(
        messages.next(),
        Date.now() + WELCOME_TIMEOUT_MS,
        this.#stop.signal,
        { unref: !this.#options.keepAlive },
      );
    } catch (err) {
      log.warning(`bad message from the master: ${(err as Error).message}`);
      connection.close();
      return false;
    }
    if (first === TIMED_OUT || first.done || first.value.tag !== "_welcome") {
      connection.close();
      if (first !== TIMED_OUT && !first.done && first.value.tag === "_refused") {
        this.#stats.refused++;
        if (!this.#refusedLogged) {
          this.#refusedLogged = true;
          log.warning(
            `the master at ${path} refused this link: ${
              String(first.value.data.error ?? "no reason given")
            }; trying again with back-off`,
          );
        }
      } else if (first === TIMED_OUT && !this.#closing) {
        log.warning(`the master at ${path} did not answer the hello: trying again`);
      }
      return false;
    }
    if (this.#refusedLogged) {
      log.info(`the master at ${path} accepted this link after refusing it`);
      this.#refusedLogged = false;
    }
    onWelcome();
    const backlog = this.#queue;
    this.#queue = [];
    for (const message of backlog) connection.send(message.tag, message.data);
    this.#stats.sent += backlog.length;
    this.#connection = connection;
    this.#stats.connections++;
    if (this.#stats.connections > 1 || backlog.length > 0 || this.#droppedWhileAway > 0) {
      log.info(
        `connected to the master at ${path}; sent ${backlog.length} queued messages` +
          (this.#droppedWhileAway > 0
            ? `, ${this.#droppedWhileAway} dropped while it was away`
            : ""),
      );
    } else {
      log.info(`connected to the master at ${path}`);
    }
    this.#droppedWhileAway = 0;
    for (const waiter of this.#connectedWaiters.splice(0)) waiter();
    this.#options.onConnect?.();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    if (heartbeatMs) {
      const every = Math.min(heartbeatMs, 2 ** 31 - 1); // the timer's own limit
      heartbeat = setInterval(() => connection.send("_heartbeat", {}), every);
      if (!this.#options.keepAlive) Deno.unrefTimer(heartbeat);
    }
    try {
      for await (const message of messages) {
        if (message.tag === "_reply") this.#reply(message.data);
        else this.#options.onMessage?.(message);
      }
    } catch (err) {
      log.warning(`bad message from the master: ${(err as Error).message}`);
    } finally {
      clearInterval(heartbeat);
      connection.close();
      this.#connection = null;
      for (const [, request] of this.#requests) {
        request.reject(new MasterRequestError("the master went away before answering"));
      }
      if (!this.#closing) {
        log.warning(
          `lost the master at ${path}; queuing messages (up to ${this.#queueSize}) until it is back`,
        );
      }
    }
    return true;
  }

  #reply(data: Record<string, unknown>): void {
    const request = this.#requests.get(data.mid as number);
    if (!request) return;
    if (data.ok === true) request.resolve(data.result);
    else request.reject(new MasterRequestError(String(data.error ?? "refused by the master")));
  }
}

/** Options of {@linkcode requestMaster}. */
export interface RequestMasterOptions {
  /** How to reach the master. */
  dialer: LinkDialer;
  /** The `_hello` data: `{ role: "client", id, pid }`. */
  hello: Record<string, unknown>;
  /** How long to wait for the connection and the answer, in ms (default 5000). */
  timeoutMs?: number;
}

/**
 * One request over a fresh connection, for one-shot callers (`call`,
 * `event.fire_master` with `preload`): connect, say hello, send, wait for
 * the reply, close.
 *
 * @throws {MasterRequestError} when the master is unreachable, refuses, or
 * does not answer.
 * @example
 * ```ts
 * import { requestMaster } from "./master_link.ts";
 * import { SocketLinkDialer } from "../transport/link_transport.ts";
 * await requestMaster("_minion_event", {
 *   load: { cmd: "_minion_event", id: "web1", tag: "my/tag", data: { a: 1 } },
 * }, {
 *   dialer: new SocketLinkDialer("/tmp/m/master_minion_link.ipc"),
 *   hello: { role: "client", id: "web1" },
 * });
 * ```
 */
export async function requestMaster(
  tag: string,
  data: Record<string, unknown>,
  options: RequestMasterOptions,
): Promise<unknown> {
  let channel;
  try {
    channel = await options.dialer.dial();
  } catch (err) {
    await options.dialer.close?.();
    throw permissionError(err, `reaching the master at ${options.dialer.describe()}`) ??
      new MasterRequestError(
        `no master listening at ${options.dialer.describe()}: ${(err as Error).message}`,
        { cause: err },
      );
  }
  const connection = new LinkConnection(channel);
  const timeout = Promise.withResolvers<never>();
  const timer = setTimeout(
    () => timeout.reject(new MasterRequestError(`no answer from the master to ${tag}`)),
    options.timeoutMs ?? 5000,
  );
  try {
    connection.send("_hello", options.hello);
    connection.send(tag, { ...data, mid: 1 });
    const answer = (async () => {
      for await (const message of connection.messages()) {
        if (message.tag === "_refused") {
          throw new MasterRequestError(
            `the master refused the connection: ${String(message.data.error ?? "no reason")}`,
          );
        }
        if (message.tag !== "_reply") continue;
        if (message.data.ok === true) return message.data.result;
        throw new MasterRequestError(String(message.data.error ?? "refused by the master"));
      }
      throw new MasterRequestError("the master closed the connection before answering");
    })();
    answer.catch(() => {}); // settled after a timeout: nobody waits for it any more
    return await Promise.race([answer, timeout.promise]);
  } finally {
    clearTimeout(timer);
    connection.close();
    await options.dialer.close?.();
  }
}
