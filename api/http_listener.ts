/**
 * The API's HTTP server: its own accept loop over `Deno.listen` /
 * `Deno.listenTls`, HTTP/1.1 from {@linkcode ./http1.ts}, WebSockets from
 * {@linkcode ./raw_websocket.ts}.
 *
 * Why not `Deno.serve`: in Deno 2.9 its accept loop runs inside the runtime,
 * ends on the first accept error (`EMFILE`) with a rejection nobody can
 * catch before the process dies, and it has no header or idle timeout and
 * no bound on connections, so a local process holding connections open can
 * exhaust descriptors and take the master down. Serving each accepted
 * connection with Deno's HTTP engine instead is not possible either: that
 * engine closes upgraded WebSockets when its connection ends. So this
 * module owns the connections:
 *
 * - accept errors (`EMFILE`, `ENFILE`, `ECONNABORTED` …) are logged once,
 *   retried with {@linkcode Backoff}, and accepting resumes when descriptors
 *   free up, with a line saying how long it took;
 * - a request head must arrive within `requestTimeoutMs` of the connection
 *   opening or of the end of the previous response (slowloris heads and
 *   idle keep-alive connections are closed), its body within
 *   `requestTimeoutMs` of the head, and every write must progress within
 *   `requestTimeoutMs` (clients that stop reading are closed);
 * - at most `maxConnections` connections: at the bound, the oldest one that
 *   waits for a request head is closed to make room; when every connection
 *   is busy the new one is closed at once.
 *
 * @module
 */
import { Backoff, raceDeadline, TIMED_OUT } from "../bus/async.ts";
import type { Logger } from "../bus/log.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import {
  bodyFraming,
  type BodyState,
  bodyStream,
  BodyTimeoutError,
  ConnReader,
  CONTINUE_BYTES,
  errorResponseBytes,
  HttpParseError,
  type RequestHead,
  writeResponse,
} from "./http1.ts";
import { upgradeRawWebSocket } from "./raw_websocket.ts";

/** One accepted connection, as the request handler sees it. */
export interface HttpConnection {
  /** Closes the connection once the current response has been sent. */
  closeAfterResponse(): void;
}

/** What the handler gets besides the request. */
export interface HttpRequestInfo {
  /** The peer. */
  remoteAddr: Deno.NetAddr;
  /** Settles when the response has been sent (rejects when it could not be). */
  completed: Promise<void>;
  /** The connection the request came on. */
  connection: HttpConnection;
  /**
   * Upgrades a WebSocket request: return the `response` from the handler.
   * The connection then belongs to the socket (counted until it closes).
   *
   * @throws {WebSocketUpgradeError} when the request is not a WebSocket upgrade.
   */
  upgradeWebSocket(): Deno.WebSocketUpgrade;
}

/** A request handler of {@linkcode HttpListener}. */
export type HttpHandler = (req: Request, info: HttpRequestInfo) => Response | Promise<Response>;

/** Options of {@linkcode HttpListener.listen}. */
export interface HttpListenerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port (0 picks a free one). */
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** The request handler. */
  handler: HttpHandler;
  /** Milliseconds a client may take to send a request head (or body, or to read a write). */
  requestTimeoutMs: number;
  /** Connections open at most. */
  maxConnections: number;
  /** Largest request head in bytes (default 32 KiB); larger gets 431. */
  maxHeadBytes?: number;
  /** Most header fields in a request head (default 100). */
  maxHeaders?: number;
  /** Where to log accept errors and the bound being hit. */
  log: Logger;
}

/** Accepts must work this long after the last failure before an episode counts as over. */
const RECOVERED_MS = 2000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function peerOf(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

class Connection implements HttpConnection {
  readonly conn: Deno.Conn<Deno.NetAddr>;
  readonly reader: ConnReader;
  readonly remoteAddr: Deno.NetAddr;
  /** Waiting for a request head (timed, first to go at the bound). */
  waiting = false;
  /** The connection now belongs to a WebSocket. */
  upgraded = false;
  closing = false;
  closed = false;
  done: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: Deno.Conn<Deno.NetAddr>) {
    this.conn = conn;
    this.reader = new ConnReader(conn);
    this.remoteAddr = conn.remoteAddr;
  }

  /** Closes the connection when `ms` pass before {@linkcode disarm}. */
  arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.close(), ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  closeAfterResponse(): void {
    this.closing = true;
  }

  /** Closes the socket (pending reads and writes fail); not a WebSocket's. */
  close(): void {
    this.disarm();
    if (this.closed || this.upgraded) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  /** Writes all of `bytes`, failing when a write makes no progress for `ms`. */
  async write(bytes: Uint8Array, ms: number): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const n = await raceDeadline(this.conn.write(bytes.subarray(at)), Date.now() + ms);
      if (n === TIMED_OUT) {
        this.close();
        throw new Error(`the client read nothing for ${ms / 1000} s`);
      }
      at += n;
    }
  }
}

/**
 * A listening HTTP/1.1 server with a hardened accept loop, request
 * timeouts and a connection bound. Close it with `close()` or
 * `await using`.
 *
 * @example
 * ```ts
 * import { HttpListener } from "./http_listener.ts";
 * import { createLogger } from "../bus/log.ts";
 * await using server = HttpListener.listen({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: () => new Response("ok"),
 *   requestTimeoutMs: 10_000,
 *   maxConnections: 512,
 *   log: createLogger("info"),
 * });
 * console.log(server.addr.port);
 * ```
 */
export class HttpListener implements AsyncDisposable {
  /** The address listened on. */
  readonly addr: Deno.NetAddr;
  readonly #options: HttpListenerOptions;
  readonly #log: Logger;
  readonly #scheme: string;
  readonly #listener: Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr>;
  readonly #connections = new Set<Connection>();
  // Insertion order: the first has waited longest for a request head.
  readonly #waiting = new Set<Connection>();
  readonly #sockets = new Set<WebSocket>();
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  #closed: Promise<void> | null = null;
  #refused = 0;
  #evicted = 0;
  #boundWarnedAt = -Infinity;
  #recoveryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(options: HttpListenerOptions) {
    this.#options = options;
    this.#log = options.log;
    const { hostname, port, tls } = options;
    this.#listener = tls
      ? Deno.listenTls({ hostname, port, ...tls, alpnProtocols: ["http/1.1"] })
      : Deno.listen({ hostname, port });
    this.#scheme = tls ? "https" : "http";
    this.addr = this.#listener.addr;
    this.#loop = this.#acceptLoop();
  }

  /**
   * Starts listening.
   *
   * @throws {Deno.errors.AddrInUse} (or another `Deno.listen` error) when the address cannot be bound.
   */
  static listen(options: HttpListenerOptions): HttpListener {
    return new HttpListener(options);
  }

  /** Connections open now (WebSockets included). */
  get connections(): number {
    return this.#connections.size + this.#sockets.size;
  }

  /** Connections closed so far to make room at `maxConnections`. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Connections closed at once because every connection was busy. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Stops accepting, closes connections waiting for a request, lets
   * requests in progress finish for up to `graceMs`, then closes the rest.
   * WebSockets are left to their owners (the API closes its streams first).
   */
  close(graceMs = 2000): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort();
      try {
        this.#listener.close();
      } catch { /* closed */ }
      await this.#loop;
      const all = [...this.#connections];
      for (const c of all) if (c.waiting) c.close();
      await raceDeadline(Promise.all(all.map((c) => c.done)), Date.now() + graceMs);
      for (const c of all) c.close();
      await Promise.all(all.map((c) => c.done));
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #acceptLoop(): Promise<void> {
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000 });
    // One episode of accept failures: logged when it starts, and when accepts
    // have worked for RECOVERED_MS since its last failure (so flapping at the
    // limit is one episode, not a line per failure).
    let failingSince = 0;
    let lastFailure = 0;
    let failures = 0;
    const recovered = () => {
      this.#log.warning(
        `API: accepting connections again; accepts failed for ${lastFailure - failingSince} ms ` +
          `(${failures} failed accepts)`,
      );
      failingSince = 0;
      failures = 0;
    };
    while (!this.#stop.signal.aborted) {
      let conn: Deno.Conn<Deno.NetAddr>;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (
          this.#stop.signal.aborted || err instanceof Deno.errors.BadResource ||
          err instanceof Deno.errors.Interrupted
        ) break;
        clearTimeout(this.#recoveryTimer);
        failures++;
        lastFailure = Date.now();
        if (failingSince === 0) {
          failingSince = lastFailure;
          this.#log.warning(
            `API: cannot accept connections on ${peerOf(this.addr)}: ${messageOf(err)} ` +
              `(${this.connections} open); retrying with back-off`,
          );
        }
        await backoff.wait({ signal: this.#stop.signal });
        continue;
      }
      if (failingSince !== 0) {
        backoff.reset();
        clearTimeout(this.#recoveryTimer);
        this.#recoveryTimer = setTimeout(recovered, RECOVERED_MS);
      }
      await this.#admit(conn);
    }
    clearTimeout(this.#recoveryTimer);
  }

  /**
   * Serves `conn`, first making room at the bound: the oldest connection
   * waiting for a request head is closed, and accepting waits until its
   * descriptor is released (so descriptors stay within the bound).
   */
  async #admit(conn: Deno.Conn<Deno.NetAddr>): Promise<void> {
    while (this.connections >= this.#options.maxConnections) {
      const oldest = this.#waiting.values().next();
      if (oldest.done) {
        this.#refused++;
        try {
          conn.close();
        } catch { /* closed */ }
        this.#warnBound();
        return;
      }
      this.#evicted++;
      this.#warnBound();
      this.#setWaiting(oldest.value, false);
      oldest.value.close();
      await oldest.value.done;
    }
    const c = new Connection(conn);
    this.#connections.add(c);
    c.done = this.#serve(c).catch((err) =>
      this.#log.debug(`API: connection from ${peerOf(c.remoteAddr)}: ${messageOf(err)}`)
    ).finally(() => {
      c.close();
      this.#setWaiting(c, false);
      this.#connections.delete(c);
    });
  }

  #setWaiting(c: Connection, waiting: boolean): void {
    c.waiting = waiting;
    this.#waiting.delete(c);
    if (waiting) this.#waiting.add(c);
  }

  #warnBound(): void {
    const now = Date.now();
    if (now - this.#boundWarnedAt < 10_000) return;
    this.#boundWarnedAt = now;
    this.#log.warning(
      `API: ${this.connections} connections open (api.max_connections ` +
        `${this.#options.maxConnections}): closing the oldest idle ones (${this.#evicted} so far), ` +
        `refusing new ones while all are busy (${this.#refused} so far)`,
    );
  }

  /** Serves requests on one connection until it closes or is closed. */
  async #serve(c: Connection): Promise<void> {
    const timeout = this.#options.requestTimeoutMs;
    const limits = {
      maxHeadBytes: this.#options.maxHeadBytes ?? 32 * 1024,
      maxHeaders: this.#options.maxHeaders ?? 100,
    };
    for (;;) {
      this.#setWaiting(c, true);
      c.arm(timeout);
      let head: RequestHead | null;
      try {
        head = await c.reader.readHead(limits);
      } catch (err) {
        c.disarm();
        this.#setWaiting(c, false);
        if (err instanceof HttpParseError && !c.closed) {
          await c.write(errorResponseBytes(err.status, err.message), timeout).catch(() => {});
        }
        return;
      } finally {
        c.disarm();
        this.#setWaiting(c, false);
      }
      if (head === null || c.closed) return;
      if (!(await this.#respond(c, head, timeout))) return;
      if (c.upgraded) return;
    }
  }

  /** Handles one request; resolves whether the connection can carry another. */
  async #respond(c: Connection, head: RequestHead, timeout: number): Promise<boolean> {
    let framing;
    let url: URL;
    try {
      framing = bodyFraming(head.headers, head.version);
      const host = head.headers.get("host");
      if (head.version === "1.1" && host === null) {
        throw new HttpParseError(400, "HTTP/1.1 requests need a Host header");
      }
      url = /^[a-z][a-z0-9+.-]*:\/\//i.test(head.target)
        ? new URL(head.target)
        : new URL(head.target, `${this.#scheme}://${host ?? peerOf(this.addr)}`);
      if (!head.target.startsWith("/") && !/^https?:\/\//i.test(head.target)) {
        throw new HttpParseError(400, "malformed request target");
      }
    } catch (err) {
      const status = err instanceof HttpParseError ? err.status : 400;
      await c.write(errorResponseBytes(status, messageOf(err)), timeout).catch(() => {});
      return false;
    }
    const state: BodyState = { done: framing.kind === "none" };
    const hasBody = framing.kind !== "none" && head.method !== "GET" && head.method !== "HEAD";
    const expectContinue = (head.headers.get("expect") ?? "").toLowerCase() === "100-continue";
    const body = hasBody
      ? bodyStream(c.reader, framing, state, {
        deadline: Date.now() + timeout,
        timeoutMs: timeout,
        onFirstPull: expectContinue ? () => c.write(CONTINUE_BYTES, timeout) : undefined,
      })
      : null;
    const req = new Request(url, {
      method: head.method,
      headers: head.headers,
      body,
      // @ts-ignore: `duplex` is required by fetch for stream bodies, not yet in the DOM types
      duplex: "half",
    });
    let settle!: (ok: boolean) => void;
    const completed = new Promise<void>((resolve, reject) => {
      settle = (ok) => ok ? resolve() : reject(new Deno.errors.Interrupted("response not sent"));
    });
    completed.catch(() => {});
    let upgrade: Deno.WebSocketUpgrade | null = null;
    const info: HttpRequestInfo = {
      remoteAddr: c.remoteAddr,
      completed,
      connection: c,
      upgradeWebSocket: () => {
        upgrade = upgradeRawWebSocket(c.conn, req, c.reader.buffered.slice());
        return upgrade;
      },
    };
    let res: Response;
    try {
      res = await this.#options.handler(req, info);
    } catch (err) {
      // A body that timed out or broke the framing: answer and close.
      const status = err instanceof BodyTimeoutError
        ? 408
        : err instanceof HttpParseError
        ? err.status
        : 500;
      if (status === 500) {
        this.#log.error(`API: ${head.method} ${url.pathname} failed: ${messageOf(err)}`);
      } else this.#log.info(`API: ${head.method} ${url.pathname}: ${messageOf(err)}`);
      c.closing = true;
      res = new Response(
        pythonJsonDumps({ status, return: status === 500 ? "internal error" : messageOf(err) }),
        {
          status,
          headers: { "content-type": "application/json" },
        },
      );
    }
    if (upgrade !== null) {
      const socket = (upgrade as Deno.WebSocketUpgrade).socket;
      c.upgraded = true;
      this.#sockets.add(socket);
      socket.addEventListener("close", () => this.#sockets.delete(socket));
      settle(true);
      return false;
    }
    if (!state.done && (framing.kind === "length" || framing.kind === "chunked")) {
      // The body was not read: answer, and do not look for another request behind it.
      c.closing = true;
    }
    const gone = new AbortController();
    const watching = res.body !== null &&
        (res.headers.get("content-type") ?? "").startsWith("text/event-stream")
      ? c.reader.closed(gone.signal).then(() => gone.abort())
      : null;
    try {
      const reusable = await writeResponse(res, {
        head: head.method === "HEAD",
        keepAlive: !c.closing && head.version === "1.1" &&
          (head.headers.get("connection") ?? "").toLowerCase() !== "close",
        write: (bytes) => c.write(bytes, timeout),
        signal: gone.signal,
      });
      settle(true);
      return reusable && !c.closing && !c.reader.eof && state.done;
    } catch (err) {
      settle(false);
      this.#log.debug(`API: response to ${peerOf(c.remoteAddr)} not sent: ${messageOf(err)}`);
      return false;
    } finally {
      if (watching !== null && !gone.signal.aborted) gone.abort();
      await watching;
    }
  }
}
