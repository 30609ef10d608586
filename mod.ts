/**
 * saltbus: SaltStack's event bus for Deno, wire-compatible with Salt
 * 3006/3007. Listen to and fire events on a saltbus or Salt master or minion
 * bus, run a bus in-process, or serve salt-api's event streams over HTTP
 * (`startApi`).
 *
 * ```ts
 * import { getEvent } from "@saltbus/saltbus";
 *
 * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-0/master" });
 * await ev.fireEvent({ hello: "world" }, "myco/greeting");
 * for await (const e of ev.iterEvents({ tag: "salt/job/", full: true })) {
 *   console.log(e.tag, e.data);
 * }
 * ```
 *
 * @module
 */
import { resolveConfig } from "./bus/config.ts";
import { EventClient } from "./bus/event_client.ts";
import { createLogger, type Logger } from "./bus/log.ts";
import { configSocketPaths } from "./bus/config.ts";
import type { NodeKind } from "./bus/paths.ts";
import { UnixConnector } from "./workers/unix_channel.ts";

export {
  EventClient,
  type EventClientOptions,
  type FireEventOptions,
  type GetEventOptions,
  type IterEventsOptions,
  StreamClosedError,
} from "./bus/event_client.ts";
export { type SaltEvent } from "./bus/event_codec.ts";
export { packEvent, unpackEvent } from "./bus/event_codec.ts";
export {
  encodeFrame,
  FrameScanner,
  type FrameScannerOptions,
  type FrameSink,
} from "./bus/frame.ts";
export { packData, unpackData } from "./bus/msgpack.ts";
export {
  type BusConfig,
  DEFAULT_IPC_WRITE_BUFFER,
  DEFAULT_MAX_EVENT_SIZE,
  loadConfig,
  resolveConfig,
} from "./bus/config.ts";
export {
  BrokerStartError,
  BusUnreachableError,
  ConfigError,
  EventDataError,
  FrameError,
  MatchTypeError,
  SaltbusError,
  UsageError,
} from "./bus/errors.ts";
export { createLogger, type Logger, type LogLevel, type MessageLevel } from "./bus/log.ts";
export {
  defaultSockDir,
  minionHash,
  type NodeKind,
  type SocketPathOptions,
  type SocketPaths,
  socketPaths,
} from "./bus/paths.ts";
export { DROPPED_TAG } from "./bus/router.ts";
export { saltStamp } from "./bus/stamp.ts";
export {
  exprMatch,
  fnmatch,
  getMatcher,
  MATCH_TYPES,
  type MatchType,
  type TagMatcher,
} from "./bus/tag_match.ts";
export type { ByteChannel, Connector } from "./bus/transport.ts";
export { TAGEND, tagify, TAGS } from "./bus/tagify.ts";
export { VALUE_TRIMMED } from "./bus/trim.ts";
export { BusHandle, startBus, type StartBusOptions } from "./workers/start_bus.ts";
export { VERSION } from "./bus/version.ts";
export { Caller, type CallerOptions } from "./modules/caller.ts";
export type { ModuleSource } from "./modules/builtin.ts";
export type {
  LoaderResources,
  ModuleContext,
  SaltFunction,
  SaltFunctions,
} from "./modules/context.ts";
export { ArgumentError, CommandNotFoundError, LoaderClosedError } from "./modules/errors.ts";
export { Kwargs, kwargs } from "./modules/kwargs.ts";
export { genJid, type GenJidOptions, isJid, jidToDate, jidToTime } from "./jobs/jid.ts";
export {
  DID_NOT_RETURN,
  type JobOptions,
  LocalClient,
  type LocalClientOptions,
  type MinionReturn,
  type PublishedJob,
} from "./jobs/local_client.ts";
export {
  compileTarget,
  matchTarget,
  TARGET_TYPES,
  type TargetCandidate,
  TargetError,
  type TargetMatcher,
  type TargetType,
} from "./jobs/target.ts";
export { publishArgs, type ReturnInput, returnLoad } from "./jobs/return_load.ts";
export {
  DEFAULT_MASTER_QUEUE_SIZE,
  MasterLink,
  type MasterLinkOptions,
  type MasterLinkStats,
  MasterRequestError,
  requestMaster,
  type RequestMasterOptions,
} from "./link/master_link.ts";
export type { LinkMessage } from "./link/link_connection.ts";
export {
  type LinkHandler,
  type LinkPeer,
  LinkRequestError,
  MinionLinkServer,
  type MinionLinkServerOptions,
} from "./link/link_server.ts";
export { MASTER_LINK_SOCKET, masterLinkPath } from "./link/link_paths.ts";
export { RESERVED_TAG_PREFIXES, reservedTagReason } from "./link/reserved_tags.ts";
export { MasterHandle, startMaster, type StartMasterOptions } from "./master/start_master.ts";
export { PresenceReporter } from "./master/presence.ts";
export { MinionHandle, startMinion, type StartMinionOptions } from "./minion/minion_daemon.ts";
export { Loader, type LoaderOptions, loadModules, type ModuleLoadError } from "./modules/loader.ts";
export type { DeviceResult, DeviceStatus } from "./proxy/device_runner.ts";
export { ProxyRunError } from "./proxy/pool.ts";
export type { ProxySummary } from "./proxy/proxy_events.ts";
export {
  type DeviceOptions,
  type ProxyContext,
  type ProxyFunction,
  type ProxyFunctions,
  proxyFunctions,
  type ProxyModule,
} from "./proxy/proxy_module.ts";
export { loadRoster, parseRoster, type Roster, RosterError } from "./proxy/roster.ts";
export {
  type ProxyProgress,
  type ProxyRun,
  runProxy,
  type RunProxyOptions,
} from "./proxy/run_proxy.ts";
export {
  formatOutput,
  type FormatOutputOptions,
  type OutputterName,
  OUTPUTTERS,
} from "./output/outputter.ts";
export { ApiServer, ApiStartError, startApi, type StartApiOptions } from "./api/server.ts";
export {
  type ApiSettings,
  type ApiUser,
  DEFAULT_TOKEN_EXPIRE,
  resolveApiSettings,
} from "./api/config.ts";
export {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  type TokenInfo,
  type TokenRecord,
  TokenStore,
  verifyPassword,
} from "./api/auth.ts";
export {
  type EventBatch,
  EventHub,
  type EventHubOptions,
  type HubClient,
  LiveEvent,
} from "./api/event_hub.ts";
export { History, type HistoryEntry, type Resume } from "./api/history.ts";
export { CLIENT_DROPPED_TAG, MISSED_TAG } from "./api/sse.ts";

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
 * import { getEvent } from "./mod.ts";
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
  return new EventClient(new UnixConnector(configSocketPaths(config)), config, log, {
    listen: options.listen,
    raiseErrors: options.raiseErrors,
  });
}
