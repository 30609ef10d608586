/**
 * `getEvent()`: an event client on a bus's sockets, as Salt's
 * `salt.utils.event.get_event`.
 *
 * @module
 */
import { resolveConfig } from "../bus/config.ts";
import { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import type { NodeKind } from "../bus/paths.ts";
import { busConnectorFor } from "./bus_connector.ts";

/** Options of {@linkcode getEvent}. */
export interface GetEventFactoryOptions {
  /** Socket directory; wins over `opts.sock_dir` (Salt's `sock_dir` argument). */
  sockDir?: string;
  /** Options with Salt's names: `sock_dir`, `id`, `hash_type`, `hash_id`, `event_match_type`, `max_event_size`, … */
  opts?: Record<string, unknown>;
  /** Connect the listening side now (default true); `false` for a fire-only client. */
  listen?: boolean;
  /** Throw `StreamClosedError` when the stream closes instead of resolving `null`. */
  raiseErrors?: boolean;
  /** Where to log (default: standard error, warnings and errors). */
  log?: Logger;
}

/**
 * Opens an event client on a bus's Unix sockets, as Salt's
 * `salt.utils.event.get_event(node, sock_dir, opts=…)`: `"master"` for the
 * master bus, `"minion"` (with `opts.id`) for a minion bus. Works against a
 * saltbus broker and a real Salt 3006/3007 `sock_dir` alike. Listeners
 * connect at once; `fireEvent` connects on first use.
 *
 * @throws {ConfigError} for a bad option (for example an unknown `hash_type`).
 * @example
 * ```ts
 * import { getEvent } from "./get_event.ts";
 * await using ev = getEvent("master", { sockDir: "/var/run/salt/master" });
 * const ret = await ev.getEvent({ tag: "salt/job/*\/ret/*", matchType: "fnmatch", full: true });
 * console.log(ret?.tag, ret?.data);
 * ```
 */
export function getEvent(node: NodeKind, options: GetEventFactoryOptions = {}): EventClient {
  const config = resolveConfig(node, {
    ...options.opts,
    ...(options.sockDir !== undefined ? { sock_dir: options.sockDir } : {}),
  });
  const log = options.log ?? createLogger(config.log_level);
  return new EventClient(busConnectorFor(config), config, log, {
    listen: options.listen,
    raiseErrors: options.raiseErrors,
  });
}
