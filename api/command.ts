/**
 * The API's entry points for the CLI: `cli.ts api` (standalone, on the
 * master bus's sockets), `cli.ts api hash-password`, and the API inside
 * `cli.ts master` when the config has an `api:` block.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { formatLogLine, type Logger } from "../bus/log.ts";
import { untilStopSignal } from "../cli/signals.ts";
import type { BusHandle } from "../workers/start_bus.ts";
import { hashPassword } from "./auth.ts";
import { hasApiBlock } from "./config.ts";
import { type ApiServer, startApi } from "./server.ts";

/** Options of {@linkcode serveApi}. */
export interface ServeApiOptions {
  /** The resolved master config. */
  config: BusConfig;
  /** The config file, for messages. */
  source?: string;
  /** Where to log. */
  log: Logger;
  /** `--port`, overriding `api.port`. */
  port?: string;
  /** `--host`, overriding `api.host`. */
  host?: string;
}

function announce(api: ApiServer): void {
  console.error(formatLogLine("info", `API ready on ${api.url} (events at ${api.url}events)`));
}

/**
 * Runs `cli.ts api`: serves the API on the master bus's sockets until
 * SIGINT or SIGTERM; resolves the exit code.
 *
 * @throws {UsageError} for a bad `--port`.
 * @example
 * ```ts
 * import { serveApi } from "./command.ts";
 * import { loadConfig } from "../bus/config.ts";
 * import { createLogger } from "../bus/log.ts";
 * const config = await loadConfig("master", "/etc/saltbus/master");
 * Deno.exit(await serveApi({ config, log: createLogger("info") }));
 * ```
 */
export async function serveApi(options: ServeApiOptions): Promise<number> {
  let port: number | undefined;
  if (options.port !== undefined) {
    port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a port number, not '${options.port}'`);
    }
  }
  const api = await startApi({ ...options, port, host: options.host });
  announce(api);
  const signal = await untilStopSignal();
  options.log.info(`${signal}: shutting down the API`);
  await api.close();
  return 0;
}

/**
 * Starts the API inside `cli.ts master` when the config has an `api:`
 * block (through the in-process bus); `null` otherwise.
 *
 * @example
 * ```ts
 * import { startMasterApi } from "./command.ts";
 * import { startBus } from "../workers/start_bus.ts";
 * import { createLogger } from "../bus/log.ts";
 * const bus = await startBus({ config: { api: { port: 8000 } } });
 * const api = await startMasterApi(bus.config, bus, createLogger("info"));
 * await api?.close();
 * await bus.close();
 * ```
 */
export async function startMasterApi(
  config: BusConfig,
  bus: BusHandle,
  log: Logger,
  source?: string,
): Promise<ApiServer | null> {
  if (!hasApiBlock(config)) return null;
  const api = await startApi({ config, bus, log, source });
  announce(api);
  return api;
}

/**
 * Runs `cli.ts api hash-password [PASSWORD]`: prints the PBKDF2 hash for
 * `external_auth: {saltbus: {<user>: {password: …}}}`. Without an argument
 * the password is read from the first line of standard input (keeps it out
 * of the shell history).
 *
 * @example
 * ```ts
 * import { printPasswordHash } from "./command.ts";
 * await printPasswordHash(["s3cret"]); // prints pbkdf2-sha256$600000$…$…
 * ```
 */
export async function printPasswordHash(args: string[]): Promise<number> {
  if (args.length > 1) throw new UsageError("api hash-password takes one password");
  let password = args[0];
  if (password === undefined) {
    const text = await new Response(Deno.stdin.readable).text();
    password = text.split(/\r?\n/)[0];
  }
  if (!password) throw new UsageError("api hash-password: the password is empty");
  console.log(await hashPassword(password));
  return 0;
}
