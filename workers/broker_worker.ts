/**
 * The broker: a Worker entry point that owns a bus's two listeners (pull:
 * frames in; pub: every frame out to every subscriber) and the in-process
 * actors' MessagePorts, and routes between them with {@linkcode Router}.
 *
 * Started and supervised by `startBus()`; speaks {@linkcode BrokerCommand}
 * and {@linkcode BrokerReport}.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createLogger, type Logger } from "../bus/log.ts";
import { type Outbound, Router } from "../bus/router.ts";
import type { ByteChannel } from "../bus/transport.ts";
import type { BrokerCommand, BrokerReport, BrokerSettings } from "../broker/broker_protocol.ts";
import { PortChannel } from "../transport/port_channel.ts";
import { type BoundListener, listenEndpoint } from "../transport/endpoint.ts";
import { ensureSockDir } from "../transport/sock_dir.ts";

const report = (message: BrokerReport) => self.postMessage(message);

/** The running broker: listeners, open channels, the router. */
class Broker {
  readonly router: Router;
  readonly channels = new Set<ByteChannel>();
  listeners: BoundListener[] = [];
  #nextConn = 1;
  #stopping = false;

  constructor(readonly settings: BrokerSettings, readonly log: Logger) {
    this.router = new Router({
      writeBufferLimit: settings.writeBufferLimit,
      overflow: settings.subscriberOverflow,
      stallTimeoutMs: settings.stallTimeoutMs,
      maxFrameSize: settings.maxFrameSize,
      partialFramesLimit: settings.partialFramesLimit,
      log,
    });
  }

  async start(): Promise<void> {
    const { sockDir, paths, pubMode } = this.settings;
    await ensureSockDir(sockDir);
    // The supervising thread (startBus) holds the sockets' locks for the
    // life of the bus, across Worker restarts.
    const options = { log: this.log, lock: false };
    const pull = await listenEndpoint(paths.pull, { ...options, mode: 0o600 });
    this.listeners.push(pull);
    try {
      const pub = await listenEndpoint(paths.pub, { ...options, mode: pubMode });
      this.listeners.push(pub);
      void this.#accept(pub, (channel) => this.subscriber(channel, "pub"));
    } catch (err) {
      await this.stop();
      throw err;
    }
    void this.#accept(pull, (channel) => this.publisher(channel, "pull"));
    this.log.info(`listening on ${paths.pub} and ${paths.pull}`);
  }

  /**
   * Accepts until the listener is closed. The listener itself survives
   * accept errors; should its loop end anyway, the supervisor is told, so
   * that it restarts this Worker: never a bound path nobody serves.
   */
  async #accept(listener: BoundListener, handle: (channel: ByteChannel) => void): Promise<void> {
    let failure = "its accept loop ended";
    try {
      for await (const channel of listener.accept()) handle(channel);
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    if (this.#stopping) return;
    this.log.error(`listener on ${listener.address} stopped: ${failure}; restarting the broker`);
    await listener.close().catch(() => {});
    report({ type: "listener-failed", address: listener.address, message: failure });
  }

  /** A connection that writes frames in: feed its bytes to the router. */
  async publisher(channel: ByteChannel, kind: string): Promise<void> {
    const label = `${kind}#${this.#nextConn++}`;
    this.channels.add(channel);
    const input = this.router.addPublisher(label, { close: () => channel.close() });
    try {
      while (true) {
        const chunk = await channel.read();
        if (chunk === null) break;
        input.push(chunk);
      }
    } catch (err) {
      // FrameError (already logged by the router) or a read error: this connection only.
      if (!(err instanceof Error && err.name === "FrameError")) {
        this.log.warning(`publisher ${label} failed: ${err instanceof Error ? err.message : err}`);
      }
      if (channel instanceof PortChannel) channel.close("bad frame: connection closed");
    } finally {
      input.close();
      channel.close();
      this.channels.delete(channel);
    }
  }

  /** A connection that receives every frame. */
  async subscriber(channel: ByteChannel, kind: string): Promise<void> {
    const label = `${kind}#${this.#nextConn++}`;
    this.channels.add(channel);
    const outbound: Outbound = {
      write: (bytes) => channel.write(bytes),
      close: () => channel.close(),
    };
    const remove = this.router.addSubscriber(outbound, label);
    try {
      // Subscribers do not write; reading tells us when they go away.
      while ((await channel.read()) !== null) { /* ignore presence data */ }
    } catch {
      // gone
    } finally {
      remove();
      channel.close();
      this.channels.delete(channel);
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const listener of this.listeners) await listener.close();
    this.listeners = [];
    this.router.closeAll();
    for (const channel of this.channels) channel.close();
    this.channels.clear();
  }
}

let broker: Broker | null = null;

self.onmessage = async (e: MessageEvent<BrokerCommand>) => {
  const command = e.data;
  switch (command.type) {
    case "start": {
      const log = createLogger(
        command.settings.logLevel,
        (level, message) => report({ type: "log", level, message }),
      );
      const candidate = new Broker(command.settings, log);
      try {
        await candidate.start();
        broker = candidate;
        report({ type: "started" });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        report({ type: "start-failed", name: error.name, message: error.message });
      }
      break;
    }
    case "attach": {
      if (!broker) {
        command.port.close();
        break;
      }
      const channel = new PortChannel(command.port);
      if (command.role === "pub") void broker.subscriber(channel, "port-sub");
      else void broker.publisher(channel, "port-pub");
      break;
    }
    case "stop":
      await broker?.stop();
      broker = null;
      report({ type: "stopped" });
      break;
    case "fail-listener": {
      // For supervision tests: a listener that stops without the broker stopping.
      const address = command.role === "pub"
        ? broker?.settings.paths.pub
        : broker?.settings.paths.pull;
      void broker?.listeners.find((listener) => listener.address === address)?.close();
      break;
    }
    case "crash":
      // For supervision tests: an uncaught error, as a bug would raise.
      setTimeout(() => {
        throw new Error("broker crash requested");
      }, 0);
      break;
  }
};
