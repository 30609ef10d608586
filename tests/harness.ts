/**
 * Test harness: a real broker (Worker, Unix sockets) on a fresh temp
 * `sock_dir`, always torn down, temp dir included.
 *
 * @module
 */
import { type BusConfig, resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger, type MessageLevel } from "../bus/log.ts";
import type { NodeKind } from "../bus/paths.ts";
import { getEvent, type GetEventFactoryOptions } from "../mod.ts";
import { type BusHandle, startBus } from "../broker/start_bus.ts";

/** Log lines captured during a test. */
export interface CapturedLog {
  /** Every line as `level: message`. */
  lines: string[];
  /** The logger that records them. */
  log: Logger;
}

/**
 * A logger that records lines (and prints nothing).
 *
 * @example
 * ```ts
 * const { log, lines } = captureLog();
 * log.warning("x"); // lines == ["warning: x"]
 * ```
 */
export function captureLog(level: MessageLevel = "debug"): CapturedLog {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (lvl, message) => lines.push(`${lvl}: ${message}`)) };
}

/** A broker running for one test. */
export interface TestBus extends AsyncDisposable {
  /** The temp socket directory. */
  sockDir: string;
  /** The running bus. */
  bus: BusHandle;
  /** Its resolved config. */
  config: BusConfig;
  /** Its log lines. */
  logs: string[];
  /** Opens a socket client on this bus (closed with the bus). */
  client(options?: GetEventFactoryOptions): EventClient;
  /** Stops everything and removes the temp dir. */
  close(): Promise<void>;
}

/** Options of {@linkcode startTestBus}. */
export interface TestBusOptions {
  /** `master` (default) or `minion`. */
  node?: NodeKind;
  /** Salt-named options for the bus. */
  config?: Record<string, unknown>;
  /** Use this dir instead of a fresh temp dir (not removed at the end). */
  sockDir?: string;
}

/**
 * Starts a real broker on a fresh temp `sock_dir`.
 *
 * @example
 * ```ts
 * await using t = await startTestBus();
 * const ev = t.client();
 * await ev.fireEvent({ a: 1 }, "x");
 * ```
 */
export async function startTestBus(options: TestBusOptions = {}): Promise<TestBus> {
  const ownDir = options.sockDir === undefined;
  const sockDir = options.sockDir ?? await Deno.makeTempDir({ prefix: "saltbus-test-" });
  const captured = captureLog();
  let bus: BusHandle;
  try {
    bus = await startBus({
      node: options.node ?? "master",
      sockDir,
      config: options.config,
      log: captured.log,
    });
  } catch (err) {
    if (ownDir) await Deno.remove(sockDir, { recursive: true });
    throw err;
  }
  const clients: EventClient[] = [];
  const close = async () => {
    for (const client of clients) await client.close();
    await bus.close();
    if (ownDir) await Deno.remove(sockDir, { recursive: true }).catch(() => {});
  };
  return {
    sockDir,
    bus,
    config: resolveConfig(options.node ?? "master", { ...options.config, sock_dir: sockDir }),
    logs: captured.lines,
    client(clientOptions: GetEventFactoryOptions = {}) {
      const client = getEvent(options.node ?? "master", {
        sockDir,
        log: captured.log,
        ...clientOptions,
        opts: { ...options.config, ...clientOptions.opts },
      });
      clients.push(client);
      return client;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The repository root, for running cli.ts in a subprocess. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Output of a finished CLI process. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * Runs `deno run … cli.ts <args>` as a real process and waits for it.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["--help"]);
 * ```
 */
export async function runCli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const child = spawnCli(args, { env: options.env, stdin: options.stdin !== undefined });
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * The command line that runs `cli.ts <args>` with the permissions `deno task
 * cli` grants: `[deno, "run", "--quiet", …flags, cli.ts, …args]`.
 *
 * @example
 * ```ts
 * const [cmd, ...argv] = cliArgv(["master", "--sock-dir", "/tmp/x"]);
 * new Deno.Command("sh", { args: ["-c", 'ulimit -n 256; exec "$@"', "sh", cmd, ...argv] });
 * ```
 */
export function cliArgv(args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    "--allow-net",
    "--allow-run",
    `${ROOT}cli.ts`,
    ...args,
  ];
}

/**
 * Starts `cli.ts <args>` as a real process (stdout and stderr piped); the
 * caller waits for it or kills it.
 *
 * @example
 * ```ts
 * const child = spawnCli(["master", "--sock-dir", "/tmp/x"]);
 * child.kill("SIGTERM");
 * await child.output();
 * ```
 */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: boolean; ulimit?: number } = {},
): Deno.ChildProcess {
  const line = cliArgv(args);
  // With `ulimit`, the process starts under `ulimit -n <ulimit>` (through sh).
  const [command, ...argv] = options.ulimit === undefined
    ? line
    : ["sh", "-c", `ulimit -n ${options.ulimit} && exec "$@"`, "sh", ...line];
  return new Deno.Command(command, {
    args: argv,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Text collected from a child's output stream as it arrives. */
export interface OutputCollector {
  /** Everything received so far. */
  readonly text: string;
  /** Resolves when the stream ends. */
  readonly done: Promise<void>;
  /** Resolves once `needle` has appeared; rejects after `timeoutMs`. */
  waitFor(needle: string | RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * Collects a child process's output stream in the background.
 *
 * @example
 * ```ts
 * const child = spawnCli(["master", "--sock-dir", "/tmp/x"]);
 * const stderr = collect(child.stderr);
 * await stderr.waitFor("master bus ready");
 * ```
 */
export function collect(stream: ReadableStream<Uint8Array>): OutputCollector {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  const has = (needle: string | RegExp) =>
    typeof needle === "string" ? text.includes(needle) : needle.test(text);
  return {
    get text() {
      return text;
    },
    done,
    async waitFor(needle, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!has(needle)) {
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${needle} in output:\n${text}`);
        }
        await Promise.race([done, sleep(20)]);
        if (
          !has(needle) && (await Promise.race([done.then(() => true), sleep(0).then(() => false)]))
        ) {
          throw new Error(`stream ended without ${needle}; output:\n${text}`);
        }
      }
    },
  };
}
