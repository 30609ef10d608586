/**
 * `startBus()`: runs a bus's broker in a dedicated Worker and supervises it.
 * The returned {@linkcode BusHandle} hands out in-process actors (event
 * clients over MessagePorts, batched, with the sockets' semantics) and
 * restarts a broker Worker that dies, on the same paths.
 *
 * @module
 */
import { type BusConfig, configSocketPaths, pubSocketMode, resolveConfig } from "../bus/config.ts";
import { Backoff } from "../bus/async.ts";
import { BrokerStartError } from "../bus/errors.ts";
import { EventClient, type EventClientOptions } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import type { NodeKind, SocketPaths } from "../bus/paths.ts";
import type { ByteChannel, Connector } from "../bus/transport.ts";
import type { BrokerCommand, BrokerReport, BrokerSettings } from "./broker_protocol.ts";
import { PortChannel } from "../transport/port_channel.ts";
import { parseEndpoint } from "../transport/endpoint.ts";
import { ensureSockDir } from "../transport/sock_dir.ts";
import { acquireSocketLock, type SocketLock } from "../transport/sock_lock.ts";

/** Options of {@linkcode startBus}. */
export interface StartBusOptions {
  /** `master` (default) or `minion`. */
  node?: NodeKind;
  /** Socket directory; wins over `config.sock_dir`. */
  sockDir?: string;
  /** Options with Salt's names (`sock_dir`, `id`, `hash_type`, `ipc_write_buffer`, …). */
  config?: Record<string, unknown>;
  /** Where to log (default: standard error at `log_level`). */
  log?: Logger;
}

/** Restart back-off of a broker Worker that died: 50 ms, doubled up to 5 s. */
const RESTART_BACKOFF = { initialMs: 50, maxMs: 5000 };

/**
 * A running bus. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { startBus } from "./start_bus.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * await using ev = bus.getEvent();
 * await ev.fireEvent({ a: 1 }, "my/tag");
 * ```
 */
export class BusHandle implements AsyncDisposable {
  /** The resolved configuration. */
  readonly config: BusConfig;
  /** The pub and pull socket paths. */
  readonly paths: SocketPaths;
  readonly #log: Logger;
  readonly #settings: BrokerSettings;
  readonly #channels = new Set<PortChannel>();
  #locks: SocketLock[] = [];
  #worker: Worker | null = null;
  #ready: Promise<void> = Promise.resolve();
  #restarts = 0;
  #closing = false;
  #closed: Promise<void> | null = null;

  /** @internal Use {@linkcode startBus}. */
  constructor(config: BusConfig, log: Logger) {
    this.config = config;
    this.paths = configSocketPaths(config);
    this.#log = log;
    this.#settings = {
      sockDir: config.sock_dir,
      paths: this.paths,
      pubMode: pubSocketMode(config),
      writeBufferLimit: config.ipc_write_buffer,
      subscriberOverflow: config.subscriber_overflow,
      stallTimeoutMs: config.subscriber_stall_timeout * 1000,
      maxFrameSize: config.max_frame_size,
      partialFramesLimit: config.partial_frames_limit,
      logLevel: config.log_level,
    };
  }

  /** How many times the broker Worker was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves when the broker is listening (after a restart too). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * @internal Starts the first broker; rejects when it cannot listen. The
   * sock_dir is checked here and each Unix socket's lock taken here, on the
   * supervising thread, so the locks outlive any Worker restart.
   */
  async start(): Promise<void> {
    try {
      await ensureSockDir(this.#settings.sockDir);
      for (const address of [this.paths.pull, this.paths.pub]) {
        const endpoint = parseEndpoint(address);
        if (endpoint.transport === "unix") {
          this.#locks.push(await acquireSocketLock(endpoint.path, { log: this.#log }));
        }
      }
      this.#ready = this.#spawn();
      await this.#ready;
    } catch (err) {
      await this.#releaseLocks();
      throw err;
    }
  }

  async #releaseLocks(): Promise<void> {
    const locks = this.#locks;
    this.#locks = [];
    for (const lock of locks) await lock.release();
  }

  /**
   * An in-process event client: the same API as `getEvent()`, talking to the
   * broker over MessagePorts instead of sockets.
   *
   * @example
   * ```ts
   * import { startBus } from "./start_bus.ts";
   * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
   * await using listener = bus.getEvent();
   * await using firer = bus.getEvent({ listen: false });
   * await firer.fireEvent({ n: 1 }, "demo");
   * console.log(await listener.getEvent({ tag: "demo" })); // { n: 1, _stamp: "…" }
   * ```
   */
  getEvent(options: EventClientOptions = {}): EventClient {
    return new EventClient(this.#connector, this.config, this.#log, options);
  }

  /** The connector in-process clients use. */
  get connector(): Connector {
    return this.#connector;
  }

  readonly #connector: Connector = {
    connectPub: () => this.#attach("pub"),
    connectPull: () => this.#attach("pull"),
    describe: () => `in-process bus ${this.config.sock_dir}`,
  };

  /** Makes the broker Worker throw an uncaught error (to test supervision). */
  crashBrokerForTesting(): void {
    this.#post({ type: "crash" });
  }

  /**
   * Closes one of the broker's listeners behind its back (to test
   * supervision): the broker reports it, and the Worker is restarted.
   */
  failListenerForTesting(role: "pub" | "pull"): void {
    this.#post({ type: "fail-listener", role });
  }

  /** Stops the broker: listeners closed, socket files removed, actors disconnected. */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #attach(role: "pub" | "pull"): Promise<ByteChannel> {
    if (this.#closing) throw new Deno.errors.ConnectionRefused("the bus is closed");
    await this.#ready;
    if (this.#closing || !this.#worker) {
      throw new Deno.errors.ConnectionRefused("the bus is closed");
    }
    const { port1, port2 } = new MessageChannel();
    // The client owns what it writes (fresh frames or batches): transfer them.
    const channel = new PortChannel(port1, true);
    for (const old of this.#channels) if (old.isClosed) this.#channels.delete(old);
    this.#channels.add(channel);
    this.#post({ type: "attach", role, port: port2 }, [port2]);
    return channel;
  }

  #post(command: BrokerCommand, transfer: Transferable[] = []): void {
    this.#worker?.postMessage(command, transfer);
  }

  async #spawn(): Promise<void> {
    const worker = new Worker(new URL("../workers/broker_worker.ts", import.meta.url), {
      type: "module",
    });
    this.#worker = worker;
    const started = Promise.withResolvers<void>();
    worker.onmessage = (e: MessageEvent<BrokerReport>) => {
      const report = e.data;
      if (report.type === "log") this.#log[report.level](report.message);
      else if (report.type === "started") started.resolve();
      else if (report.type === "start-failed") {
        started.reject(new BrokerStartError(report.message));
      } else if (report.type === "listener-failed" && this.#worker === worker && !this.#closing) {
        this.#log.error(
          `broker listener ${report.address} failed (${report.message}); restarting the broker ` +
            `on ${this.paths.pub} and ${this.paths.pull}`,
        );
        this.#restart();
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#log.error(
        `broker worker died: ${e.message}; restarting it on ${this.paths.pub} and ${this.paths.pull}`,
      );
      started.reject(new BrokerStartError(`broker worker died while starting: ${e.message}`));
      if (this.#worker === worker) this.#restart();
    };
    worker.postMessage({ type: "start", settings: this.#settings } satisfies BrokerCommand);
    try {
      await started.promise;
    } catch (err) {
      if (this.#worker === worker) {
        worker.terminate();
        this.#worker = null;
      }
      throw err;
    }
  }

  #restart(): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const channel of this.#channels) channel.abandon("broker restarted");
    this.#channels.clear();
    this.#restarts++;
    this.#ready = (async () => {
      const backoff = new Backoff(RESTART_BACKOFF);
      while (!this.#closing) {
        await backoff.wait();
        if (this.#closing) return;
        try {
          await this.#spawn();
          this.#log.info(`broker restarted on ${this.paths.pub} and ${this.paths.pull}`);
          return;
        } catch (err) {
          this.#log.warning(
            `broker restart failed: ${err instanceof Error ? err.message : err}; retrying`,
          );
        }
      }
    })();
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    await this.#ready.catch(() => {});
    const worker = this.#worker;
    if (!worker) return await this.#releaseLocks();
    const stopped = Promise.withResolvers<void>();
    const previous = worker.onmessage;
    worker.onmessage = (e: MessageEvent<BrokerReport>) => {
      if (e.data.type === "stopped") stopped.resolve();
      else previous?.call(worker, e);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      stopped.resolve();
    };
    this.#post({ type: "stop" });
    const timer = setTimeout(() => stopped.resolve(), 2000);
    await stopped.promise;
    clearTimeout(timer);
    for (const channel of this.#channels) channel.abandon("bus closed");
    this.#channels.clear();
    worker.terminate();
    this.#worker = null;
    await this.#releaseLocks();
  }
}

/**
 * Starts a bus: its broker Worker binds the pub and pull sockets in
 * `sock_dir` (created 0700 when missing, refused when another user owns or
 * can write it or a directory above it) and routes every event to every
 * subscriber. Each Unix socket's `<path>.lock` is held until `close()`, so a
 * second bus on the same paths is refused even when this one's socket files
 * were deleted. Rejects with a `BrokerStartError` when it cannot listen (an
 * `UnsafePathError` for an unsafe sock_dir, a `SocketLockedError` when
 * another bus holds the paths).
 *
 * @example
 * ```ts
 * import { startBus } from "./start_bus.ts";
 * const bus = await startBus({ node: "master", sockDir: "/tmp/saltbus-demo" });
 * console.log(bus.paths.pub); // /tmp/saltbus-demo/master_event_pub.ipc
 * await bus.close();
 * ```
 */
export async function startBus(options: StartBusOptions = {}): Promise<BusHandle> {
  const node = options.node ?? "master";
  const config = resolveConfig(
    node,
    {
      ...options.config,
      ...(options.sockDir !== undefined ? { sock_dir: options.sockDir } : {}),
    },
    "options",
    options.log,
  );
  const log = options.log ?? createLogger(config.log_level);
  const handle = new BusHandle(config, log);
  await handle.start();
  return handle;
}
