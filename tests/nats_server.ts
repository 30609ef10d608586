/**
 * A private `nats-server` for tests: its own config file in a temp dir, on a
 * free port (never the machine-wide server on 4222), optionally inside a
 * network namespace (`ip netns exec`) and optionally with JetStream in a
 * private store dir.
 *
 * @module
 */

import { freePort } from "./postgres.ts";

/** Where to find the `nats-server` binary. */
const NATS_SERVER = Deno.env.get("NATS_SERVER_BIN") ?? "/usr/sbin/nats-server";

/** How long to wait for "Server is ready" (or a config reload) before failing. */
const READY_TIMEOUT_MS = 15_000;

/** Options for {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /** Extra nats-server config text appended to the file (authorization, tls, accounts …). */
  config?: string;
  /** The port to listen on; a free one when omitted. */
  port?: number;
  /** The address to listen on; `127.0.0.1` when omitted. */
  host?: string;
  /** Run the server inside this network namespace (`ip netns exec <netns> nats-server …`). */
  netns?: string;
  /** Enable JetStream with a `store_dir` inside the server's temp dir. */
  jetstream?: boolean;
}

/** A running private nats-server. Dispose it (or call `close`) to stop it and remove its dir. */
export interface NatsServer extends AsyncDisposable {
  /** The port it listens on. */
  port: number;
  /** The address it listens on. */
  host: string;
  /** `nats://host:port`. */
  url: string;
  /** Its temp dir (config file, JetStream store). */
  dir: string;
  /** The config file it was started with (edit it, then `reload()`). */
  configPath: string;
  /** The pid of the current process (0 when stopped). */
  readonly pid: number;
  /** Everything the server wrote to stdout/stderr so far, across restarts. */
  logs(): string;
  /** SIGTERM, then waits for it to exit (SIGKILL after 10 s). No-op when stopped. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for it to exit. No-op when stopped. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same config file (stops it first if running). */
  restart(): Promise<void>;
  /** SIGHUP: reloads the config file; resolves once the server reports the reload. */
  reload(): Promise<void>;
  /** Stops the server and removes its temp dir. */
  close(): Promise<void>;
}

/** Quotes a string for the nats-server config syntax. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** Formats `host:port`, bracketing IPv6 addresses. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts a private nats-server and waits until it reports "Server is ready".
 * Fails with the server's output when it exits early or does not become ready.
 *
 * @example
 * ```ts ignore
 * import { connect } from "npm:@nats-io/transport-node@3.4.0";
 * await using server = await startNatsServer({ jetstream: true });
 * const nc = await connect({ servers: server.url });
 * await nc.close();
 * ```
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? freePort();
  const dir = await Deno.makeTempDir({ prefix: "saltbus-nats-" });
  const configPath = `${dir}/nats-server.conf`;
  const lines = [`listen: ${quote(hostPort(host, port))}`, `server_name: ${quote(`sb_${port}`)}`];
  if (opts.jetstream) lines.push(`jetstream {\n  store_dir: ${quote(`${dir}/jetstream`)}\n}`);
  if (opts.config) lines.push(opts.config);
  await Deno.writeTextFile(configPath, lines.join("\n") + "\n");

  let log = "";
  let child: Deno.ChildProcess | null = null;
  let drained: Promise<void> = Promise.resolve();
  let exited: Promise<Deno.CommandStatus> | null = null;
  /** Wakes up everything waiting for new log text or an exit. */
  let notify: () => void = () => {};
  let changed = new Promise<void>((r) => (notify = r));
  const bump = () => {
    const n = notify;
    changed = new Promise<void>((r) => (notify = r));
    n();
  };

  /** Appends a stream to the log until it ends. */
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      log += decoder.decode(chunk, { stream: true });
      bump();
    }
  };

  /** Waits until `done(log)` holds, failing when the process exits first or on timeout. */
  const waitFor = async (done: (text: string) => boolean, what: string) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitedFirst = false;
    const current = exited!;
    current.then(() => (exitedFirst = true), () => (exitedFirst = true)).then(bump);
    while (!done(log)) {
      if (exitedFirst) {
        await drained;
        if (done(log)) return;
        throw new Error(`nats-server exited before ${what}:\n${log}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`nats-server not ${what} after ${READY_TIMEOUT_MS} ms:\n${log}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([changed, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
  };

  const spawn = async () => {
    const args = ["-c", configPath];
    const cmd = opts.netns
      ? new Deno.Command("ip", {
        args: ["netns", "exec", opts.netns, NATS_SERVER, ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(NATS_SERVER, { args, stdin: "null", stdout: "piped", stderr: "piped" });
    const readyMark = countReady(log);
    const proc = cmd.spawn();
    child = proc;
    drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]).then(() => {});
    exited = proc.status;
    try {
      await waitFor((text) => countReady(text) > readyMark, "ready");
    } catch (err) {
      await stopWith("SIGKILL");
      throw err;
    }
  };

  const stopWith = async (signal: Deno.Signal) => {
    const proc = child;
    if (!proc) return;
    try {
      proc.kill(signal);
    } catch {
      // already exited
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 10_000)));
    const outcome = await Promise.race([proc.status, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      try {
        proc.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
      await proc.status;
    }
    await drained;
    child = null;
  };

  const close = async () => {
    await stopWith("SIGTERM");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  try {
    await spawn();
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }

  return {
    port,
    host,
    url: `nats://${hostPort(host, port)}`,
    dir,
    configPath,
    get pid() {
      return child?.pid ?? 0;
    },
    logs: () => log,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
    restart: async () => {
      await stopWith("SIGTERM");
      await spawn();
    },
    reload: async () => {
      if (!child) throw new Error("nats-server is not running");
      const mark = reloads(log).length;
      child.kill("SIGHUP");
      await waitFor((text) => reloads(text).length > mark, "reloaded");
      const outcome = reloads(log)[mark];
      if (outcome !== "ok") throw new Error(`nats-server ${outcome}`);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** How many times the log says the server became ready. */
function countReady(text: string): number {
  return text.split("Server is ready").length - 1;
}

/** The reload outcomes the log reports, in order ("ok" or the failure line). */
function reloads(text: string): string[] {
  return [
    ...text.matchAll(/(Reloaded server configuration|Failed to reload server configuration.*)/g),
  ]
    .map((m) => m[1].startsWith("Reloaded") ? "ok" : m[1]);
}
