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
import { untilStopSignal } from "./signals.ts";
import { hashPassword } from "../api/auth.ts";
import { type ApiServer, startApi } from "../api/server.ts";

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

/**
 * Prints where the API listens, as `master` and `api` do on start.
 *
 * @example
 * ```ts
 * import { announceApi } from "./api_command.ts";
 * import type { ApiServer } from "../api/server.ts";
 * declare const api: ApiServer;
 * announceApi(api); // [saltbus info] API ready on http://127.0.0.1:8000/ (events at …)
 * ```
 */
export function announceApi(api: ApiServer): void {
  console.error(formatLogLine("info", `API ready on ${api.url} (events at ${api.url}events)`));
}

/**
 * Runs `cli.ts api`: serves the API on the master bus's sockets until
 * SIGINT or SIGTERM; resolves the exit code.
 *
 * @throws {UsageError} for a bad `--port`.
 * @example
 * ```ts
 * import { serveApi } from "./api_command.ts";
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
  announceApi(api);
  const signal = await untilStopSignal();
  options.log.info(`${signal}: shutting down the API`);
  await api.close();
  return 0;
}

/**
 * Runs `cli.ts api hash-password [PASSWORD]`: prints the PBKDF2 hash for
 * `external_auth: {saltbus: {<user>: {password: …}}}`. Without an argument
 * the password is read from the first line of standard input (keeps it out
 * of the shell history).
 *
 * @example
 * ```ts
 * import { printPasswordHash } from "./api_command.ts";
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
