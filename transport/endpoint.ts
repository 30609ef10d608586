/**
 * Socket addresses as the rest of saltbus writes them: a Unix socket path
 * (`/run/…/master_event_pub.ipc`) or loopback TCP (`tcp://127.0.0.1:4512`,
 * for `ipc_mode: tcp`). This is the one place that dials and binds them.
 *
 * @module
 */
import { Backoff, type BackoffOptions, delay } from "../bus/async.ts";
import { BrokerStartError } from "../bus/errors.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { permissionError } from "../bus/permission.ts";
import { ConnChannel } from "./conn_channel.ts";
import { clearStaleSocket, probeSocket } from "./sock_dir.ts";
import { acquireSocketLock, type SocketLock } from "./sock_lock.ts";
import {
  bindSocketFile,
  type FileIdentity,
  removeSocketFileIfOurs,
  socketFileState,
} from "./socket_file.ts";

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
  /**
   * The connections, as they come; ends only when closed. Accept errors
   * (`EMFILE`, `ENFILE` and the like) are logged once per episode and
   * retried with back-off; a listener that breaks is bound again.
   */
  accept(): AsyncIterable<ConnChannel>;
  /** Stops listening; removes a Unix socket's file if it is still this listener's. */
  close(): Promise<void>;
}

/** Options of {@linkcode listenEndpoint}. */
export interface ListenOptions {
  /** File mode of a Unix socket. @default 0o600 */
  mode?: number;
  /** Where accept trouble, re-binds and a lost socket file are logged. @default warnings on stderr */
  log?: Logger;
  /**
   * Hold `<path>.lock` (see `acquireSocketLock`) while listening on a Unix
   * socket, so that a second bus on the path is refused. Pass `false` only
   * when the caller holds that lock itself (the broker's supervisor does).
   * @default true
   */
  lock?: boolean;
  /**
   * How often a Unix socket's file is checked (device and inode); a file
   * that was removed is re-created. `0` never checks.
   * @default 1000
   */
  watchIntervalMs?: number;
  /** Back-off between failed accepts. @default { initialMs: 5, maxMs: 250 } */
  acceptBackoff?: BackoffOptions;
}

/** Default back-off between failed accepts: soon after descriptors free up, at most 4 tries/s. */
const ACCEPT_BACKOFF: BackoffOptions = { initialMs: 5, maxMs: 250 };

/** After a logged accept failure is recovered from, brief new episodes stay quiet this long. */
const REPORT_QUIET_MS = 10_000;

/** An episode in the quiet time is logged all the same once it lasts this long. */
const REPORT_AFTER_MS = 1000;

/** Consecutive failures of one kind other than running out of resources before a re-bind. */
const REBIND_AFTER = 5;

/** Accept errors that mean "out of descriptors or memory for now": wait, do not re-bind. */
const EXHAUSTION = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/** Accept errors about one pending connection (accept(2): retry at once), by code or Deno name. */
const PER_CONNECTION = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "EPROTO",
  "EPERM",
  "EINTR",
  "EAGAIN",
  "ENETDOWN",
  "ENETUNREACH",
  "ENONET",
  "ENOPROTOOPT",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "EOPNOTSUPP",
  "ENOTCONN",
  "ConnectionAborted",
  "ConnectionReset",
  "NotConnected",
  "WouldBlock",
]);

/**
 * Binds `address`. A Unix socket gets file mode `mode` (it is bound under a
 * temporary name and renamed into place), replaces a stale file (a live
 * broker on it is an error), and is watched: removed, it is re-created
 * within `watchIntervalMs`. TCP binds the given loopback host and port,
 * where file modes mean nothing. Either way, accepting survives descriptor
 * exhaustion (see {@linkcode BoundListener.accept}).
 *
 * @param modeOrOptions the Unix socket's file mode, or {@linkcode ListenOptions}.
 * @throws {BrokerStartError} when it cannot bind, naming the address (a
 * `SocketLockedError` when another bus holds the path).
 * @example
 * ```ts
 * import { listenEndpoint } from "./endpoint.ts";
 * const listener = await listenEndpoint("tcp://127.0.0.1:0", { mode: 0o600 });
 * console.log(listener.address); // e.g. "tcp://127.0.0.1:40123"
 * await listener.close();
 * ```
 */
export async function listenEndpoint(
  address: string,
  modeOrOptions: number | ListenOptions = {},
): Promise<BoundListener> {
  const options = typeof modeOrOptions === "number" ? { mode: modeOrOptions } : modeOrOptions;
  const endpoint = parseEndpoint(address);
  const lock = endpoint.transport === "unix" && (options.lock ?? true)
    ? await acquireSocketLock(endpoint.path, { log: options.log })
    : null;
  try {
    const listener = new ResilientListener(endpoint, address, options, lock);
    await listener.bind();
    return listener;
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

/** One bound Deno listener, and for a Unix socket the identity of its file. */
interface Generation {
  listener: Deno.Listener;
  identity: FileIdentity | null;
}

/**
 * A {@linkcode BoundListener} that keeps listening: it retries failed
 * accepts with back-off, re-binds when its listener breaks, and re-creates
 * its socket file when someone removes it.
 */
class ResilientListener implements BoundListener {
  address: string;
  readonly #endpoint: Endpoint;
  readonly #mode: number;
  readonly #log: Logger;
  readonly #lock: SocketLock | null;
  readonly #watchMs: number;
  readonly #backoff: Backoff;
  readonly #closing = new AbortController();
  #current: Generation | null = null;
  #rebinding: Promise<void> | null = null;
  #watch: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  #foreignReported = false;
  #troubleSince: number | null = null;
  #reported = false;
  #quietUntil = 0;
  #unreported = 0;
  #failures = 0;
  #sameKind = 0;
  #lastKind = "";
  #closed: Promise<void> | null = null;

  constructor(
    endpoint: Endpoint,
    address: string,
    options: ListenOptions,
    lock: SocketLock | null,
  ) {
    this.#endpoint = endpoint;
    this.address = address;
    this.#mode = options.mode ?? 0o600;
    this.#log = options.log ?? createLogger("warning");
    this.#lock = lock;
    this.#watchMs = options.watchIntervalMs ?? 1000;
    this.#backoff = new Backoff(options.acceptBackoff ?? ACCEPT_BACKOFF);
  }

  /** First bind: errors are start errors. */
  async bind(): Promise<void> {
    const endpoint = this.#endpoint;
    try {
      if (endpoint.transport === "unix") await clearStaleSocket(endpoint.path);
      this.#current = await this.#listen();
    } catch (err) {
      if (err instanceof BrokerStartError) throw err;
      throw permissionError(err, `listening on ${this.address}`) ??
        new BrokerStartError(`cannot listen on ${this.address}: ${messageOf(err)}`, {
          cause: err,
        });
    }
    if (endpoint.transport === "tcp") {
      this.address = `tcp://${endpoint.hostname}:${
        (this.#current.listener.addr as Deno.NetAddr).port
      }`;
    }
    if (endpoint.transport === "unix" && this.#watchMs > 0) {
      this.#watch = setInterval(() => void this.#checkFile(), this.#watchMs);
      Deno.unrefTimer(this.#watch);
    }
  }

  async #listen(): Promise<Generation> {
    const endpoint = this.#endpoint;
    if (endpoint.transport === "unix") {
      return await bindSocketFile(endpoint.path, this.#mode);
    }
    const port = this.#current ? (this.#current.listener.addr as Deno.NetAddr).port : endpoint.port;
    return { listener: Deno.listen({ hostname: endpoint.hostname, port }), identity: null };
  }

  async *accept(): AsyncIterable<ConnChannel> {
    while (this.#closed === null) {
      if (this.#rebinding) await this.#rebinding;
      const generation = this.#current;
      if (generation === null || this.#closed !== null) return;
      let conn: Deno.Conn;
      try {
        conn = await generation.listener.accept();
      } catch (err) {
        if (this.#closed !== null) return;
        if (generation !== this.#current || this.#rebinding) continue; // being replaced
        await this.#acceptFailed(err, generation);
        continue;
      }
      this.#accepted();
      if (this.#endpoint.transport === "tcp") {
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch {
          // reset already: the channel reports it on first read
        }
      }
      yield new ConnChannel(conn);
    }
  }

  #accepted(): void {
    if (this.#troubleSince === null) return;
    const episode = `${Date.now() - this.#troubleSince} ms (${this.#failures} failed accepts)`;
    if (this.#reported) {
      this.#log.warning(`accepting on ${this.address} again after ${episode}`);
      this.#quietUntil = Date.now() + REPORT_QUIET_MS;
    } else {
      this.#unreported++;
      this.#log.debug(`accepting on ${this.address} again after ${episode}`);
    }
    this.#troubleSince = null;
    this.#reported = false;
    this.#failures = 0;
    this.#sameKind = 0;
    this.#lastKind = "";
    this.#backoff.reset();
  }

  async #acceptFailed(err: unknown, generation: Generation): Promise<void> {
    const code = (err as { code?: unknown })?.code;
    const kind = typeof code === "string" ? code : err instanceof Error ? err.name : "unknown";
    if (PER_CONNECTION.has(kind)) {
      // That one connection failed before it was accepted (accept(2) says: retry).
      this.#log.debug(`accept on ${this.address}: a connection failed early: ${messageOf(err)}`);
      await delay(0);
      return;
    }
    this.#failures++;
    this.#sameKind = kind === this.#lastKind ? this.#sameKind + 1 : 1;
    this.#lastKind = kind;
    const exhausted = EXHAUSTION.has(kind);
    this.#troubleSince ??= Date.now();
    // Once per episode; brief episodes soon after a logged one are only counted.
    const now = Date.now();
    if (
      !this.#reported && (now >= this.#quietUntil || now - this.#troubleSince >= REPORT_AFTER_MS)
    ) {
      this.#reported = true;
      const earlier = this.#unreported > 0
        ? ` (after ${this.#unreported} brief episodes not logged)`
        : "";
      this.#unreported = 0;
      this.#log.error(
        `accept on ${this.address} failed: ${messageOf(err)}; ` +
          (exhausted
            ? "out of file descriptors or memory: pending connections wait in the backlog, " +
              "and accepting resumes as soon as descriptors free up"
            : "retrying with back-off") +
          earlier,
      );
    }
    const broken = err instanceof Deno.errors.BadResource ||
      err instanceof Deno.errors.Interrupted || (!exhausted && this.#sameKind >= REBIND_AFTER);
    if (broken) {
      await this.#rebind(generation, `its listener failed: ${messageOf(err)}`);
      return;
    }
    await this.#backoff.wait({ signal: this.#closing.signal });
  }

  /** Replaces `generation` with a new listener (retrying with back-off until closed). */
  #rebind(generation: Generation, reason: string): Promise<void> {
    if (generation !== this.#current) return this.#rebinding ?? Promise.resolve();
    this.#rebinding ??= (async () => {
      this.#log.warning(`listening on ${this.address} anew: ${reason}`);
      const backoff = new Backoff({ initialMs: 50, maxMs: 2000 });
      let reported = false;
      while (this.#closed === null) {
        if (this.#endpoint.transport === "tcp") closeQuietly(generation.listener); // frees the port
        try {
          await this.#ensurePathFree(generation);
          const next = await this.#listen();
          if (this.#closed !== null) {
            await this.#dispose(next);
            return;
          }
          this.#current = next;
          closeQuietly(generation.listener);
          this.#log.warning(`listening on ${this.address} again`);
          return;
        } catch (err) {
          if (!reported) {
            reported = true;
            this.#log.error(
              `cannot listen on ${this.address} again: ${messageOf(err)}; retrying`,
            );
          }
          await backoff.wait({ signal: this.#closing.signal });
        }
      }
    })().finally(() => this.#rebinding = null);
    return this.#rebinding;
  }

  /** Throws when a re-bind would replace a live socket (or other file) that is not ours. */
  async #ensurePathFree(generation: Generation): Promise<void> {
    const endpoint = this.#endpoint;
    if (endpoint.transport !== "unix" || !generation.identity) return;
    if ((await socketFileState(endpoint.path, generation.identity)) !== "other") return;
    const info = await Deno.lstat(endpoint.path);
    if (!info.isSocket || (await probeSocket(endpoint.path)) === "live") {
      throw new BrokerStartError(`${endpoint.path} is held by something else; not replacing it`);
    }
  }

  /** The periodic check of a Unix socket's file. */
  async #checkFile(): Promise<void> {
    const generation = this.#current;
    if (this.#checking || this.#rebinding || this.#closed !== null || !generation?.identity) {
      return;
    }
    const path = (this.#endpoint as { path: string }).path;
    this.#checking = true;
    try {
      const state = await socketFileState(path, generation.identity);
      if (state === "ours" || this.#closed !== null) {
        this.#foreignReported = false;
        return;
      }
      if (state === "missing") {
        await this.#rebind(generation, `its socket file ${path} was removed`);
        return;
      }
      // Another file took the path. Take it back only if nothing lives there.
      const info = await Deno.lstat(path);
      const live = info.isSocket ? await probeSocket(path).catch(() => "live") : "other";
      if (live === "stale" || live === "missing") {
        await this.#rebind(generation, `its socket file ${path} was replaced by a dead socket`);
        return;
      }
      if (!this.#foreignReported) {
        this.#foreignReported = true;
        this.#log.error(
          `${path} is no longer this process's socket: ${
            live === "live" ? "another process listens there" : "something else replaced it"
          }; nobody can reach this listener by that path. It is left alone (and not removed ` +
            `at shutdown); it is taken back when that file goes away`,
        );
      }
    } catch (err) {
      this.#log.warning(`cannot check ${path}: ${messageOf(err)}`);
    } finally {
      this.#checking = false;
    }
  }

  async #dispose(generation: Generation): Promise<void> {
    const endpoint = this.#endpoint;
    if (endpoint.transport === "unix" && generation.identity) {
      const removed = await removeSocketFileIfOurs(endpoint.path, generation.identity);
      if (!removed && (await socketFileState(endpoint.path, generation.identity)) === "other") {
        this.#log.warning(
          `not removing ${endpoint.path}: it is no longer this process's socket file`,
        );
      }
    }
    closeQuietly(generation.listener);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#watch);
      this.#closing.abort();
      await this.#rebinding;
      const generation = this.#current;
      this.#current = null;
      if (generation) await this.#dispose(generation);
      await this.#lock?.release();
    })();
    return this.#closed;
  }
}

function closeQuietly(listener: Deno.Listener): void {
  try {
    listener.close();
  } catch {
    // already closed
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
