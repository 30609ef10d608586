/**
 * saltbus: SaltStack's event bus for Deno, wire-compatible with Salt
 * 3006/3007. Listen to and fire events on a saltbus or Salt master or minion
 * bus (`getEvent`), run functions as `salt-call` does (`Caller`), run jobs
 * on minions (`LocalClient`), or run a bus, a master or a minion in this
 * process. The areas have their own entry points: `./jobs`, `./modules`,
 * `./proxy`, `./api` and `./cli`.
 *
 * Like Salt's Python, a script that never closes its clients still exits
 * once its work is done: idle connections do not hold the process open.
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
export {
  EventClient,
  type EventClientOptions,
  type FireEventOptions,
  type GetEventOptions,
  type IterEventsOptions,
  StreamClosedError,
} from "./bus/event_client.ts";
export type { SaltEvent } from "./bus/event_codec.ts";
export { getEvent, type GetEventFactoryOptions } from "./transport/get_event.ts";
export { TAGEND, tagify, TAGS } from "./bus/tagify.ts";
export { fnmatch, MATCH_TYPES, type MatchType } from "./bus/tag_match.ts";
export { type BusConfig, loadConfig, resolveConfig } from "./bus/config.ts";
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
export { PermissionError } from "./bus/permission.ts";
export { createLogger, type Logger, type LogLevel } from "./bus/log.ts";
export { defaultSockDir, type NodeKind, SALT_SOCK_DIRS, type SocketPaths } from "./bus/paths.ts";
export { DROPPED_TAG, type OverflowPolicy, SUBSCRIBER_MISSED_TAG } from "./bus/router.ts";
export { UnsafePathError } from "./transport/private_path.ts";
export { SocketLockedError } from "./transport/sock_lock.ts";
export { VALUE_TRIMMED } from "./bus/trim.ts";
export { VERSION } from "./bus/version.ts";
export { BusHandle, startBus, type StartBusOptions } from "./broker/start_bus.ts";
export { Caller, type CallerOptions } from "./modules/caller.ts";
export { kwargs } from "./modules/kwargs.ts";
export type {
  LoaderResources,
  ModuleContext,
  SaltFunction,
  SaltFunctions,
} from "./modules/context.ts";
export { genJid, isJid } from "./bus/jid.ts";
export {
  type JobOptions,
  LocalClient,
  type LocalClientOptions,
  type MinionReturn,
} from "./jobs/local_client.ts";
export { MasterHandle, startMaster, type StartMasterOptions } from "./master/start_master.ts";
export type { MasterComponent, MasterContext } from "./master/master_context.ts";
export { defaultMasterComponents } from "./master/components.ts";
export { MinionHandle, startMinion, type StartMinionOptions } from "./minion/minion_daemon.ts";
export type { MessageLevel } from "./bus/log.ts";
export type { ByteChannel, Connector } from "./bus/transport.ts";
export type { LinkHandler, LinkPeer, MinionLinkServer } from "./link/link_server.ts";
export type { LinkMessage } from "./link/link_connection.ts";
export type {
  JobPublisher,
  LostMinion,
  PublishedJobs,
  PublishedJobsOptions,
  PublishedJobsStats,
} from "./link/published_jobs.ts";
export type {
  MasterLink,
  MasterLinkOptions,
  MasterLinkStats,
  RequestMasterOptions,
} from "./link/master_link.ts";
export type { NodeServices } from "./link/node_services.ts";
export type { LinkDialer, LinkListener } from "./transport/link_transport.ts";
