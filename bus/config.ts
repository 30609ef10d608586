/**
 * Bus configuration with Salt's option names (§3.14), read from a YAML file
 * and checked: a bad value is a {@linkcode ConfigError} naming the option and
 * the file. Options saltbus does not know are kept and ignored, so a Salt
 * master or minion config file can be used as it is.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE } from "./frame.ts";
import { isLogLevel, type Logger, type LogLevel } from "./log.ts";
import { defaultMinionId } from "./minion_id.ts";
import { isMapping } from "./mapping.ts";
import { readYamlFile } from "./yaml_file.ts";
import {
  defaultSockDir,
  type NodeKind,
  type SocketPaths,
  socketPaths,
  tcpAddress,
} from "./paths.ts";
import { MATCH_TYPES, type MatchType } from "./tag_match.ts";
import {
  DEFAULT_PARTIAL_FRAMES_LIMIT,
  DEFAULT_STALL_TIMEOUT_MS,
  OVERFLOW_POLICIES,
} from "./router.ts";

/** Salt's floor for the buffer space `ipc_write_buffer` is half of: 10 MiB. */
const BUFFER_SPACE_FLOOR = 10 * 1024 * 1024;

/** The RAM size, once read (null: not permitted). */
let totalMemory: number | null | undefined;

function readTotalMemory(): number | null {
  if (totalMemory !== undefined) return totalMemory;
  totalMemory = null;
  try {
    // Query first: a missing --allow-sys must not prompt.
    const state = Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" }).state;
    if (state === "granted") totalMemory = Deno.systemMemoryInfo().total;
  } catch {
    // not permitted, or not available here
  }
  return totalMemory;
}

/** Options of {@linkcode defaultIpcWriteBuffer}. */
export interface IpcWriteBufferOptions {
  /** The host's RAM in bytes (default: read with `Deno.systemMemoryInfo`, which needs `--allow-sys`). */
  totalMemory?: number | null;
  /** Gets a debug line when the RAM size cannot be read. */
  log?: Logger;
}

/**
 * Salt's default `ipc_write_buffer`: ½·max(5 % of the RAM, 10 MiB), e.g.
 * 614 MiB on a 24 GiB host. When the RAM size cannot be read (no
 * `--allow-sys`), 5 MiB (½·10 MiB), with a debug line on `log`.
 *
 * @example
 * ```ts
 * import { defaultIpcWriteBuffer } from "./config.ts";
 * defaultIpcWriteBuffer({ totalMemory: 24 * 2 ** 30 }); // 644245094 (614.4 MiB)
 * defaultIpcWriteBuffer({ totalMemory: 64 * 2 ** 20 }); // 5242880 (the 10 MiB floor, halved)
 * ```
 */
export function defaultIpcWriteBuffer(options: IpcWriteBufferOptions = {}): number {
  const total = options.totalMemory !== undefined ? options.totalMemory : readTotalMemory();
  if (total === null) {
    const fallback = BUFFER_SPACE_FLOOR / 2;
    options.log?.debug(
      `ipc_write_buffer: the RAM size is unknown without --allow-sys, so the default is ` +
        `${fallback} bytes (half of Salt's 10 MiB floor), not ½·max(5 % of RAM, 10 MiB); ` +
        `grant --allow-sys or set ipc_write_buffer`,
    );
    return fallback;
  }
  return Math.floor(Math.max(total * 0.05, BUFFER_SPACE_FLOOR) / 2);
}

/**
 * The default per-subscriber backlog limit on this host, read once when this
 * module loads: see {@linkcode defaultIpcWriteBuffer}.
 */
export const DEFAULT_IPC_WRITE_BUFFER: number = defaultIpcWriteBuffer();

/** Default `max_event_size`: 1 MiB, as Salt. */
export const DEFAULT_MAX_EVENT_SIZE = 1024 * 1024;

/** The options saltbus reads, with Salt's names. Other keys are kept as they are. */
export interface BusConfig {
  /** Which bus: `master` or `minion`. */
  node: NodeKind;
  /** Socket directory (default: `$XDG_RUNTIME_DIR/saltbus/<node>` or `/tmp/saltbus-<uid>/<node>`). */
  sock_dir: string;
  /** Minion id (minion buses hash it into the socket names). */
  id?: string;
  /** Overrides `id` for the socket-name hash. */
  hash_id?: string;
  /** Hash for minion socket names (default `sha256`). */
  hash_type: string;
  /** Default tag match type (default `startswith`). */
  event_match_type: MatchType;
  /** Largest packed event data in bytes before trimming (default 1 MiB). */
  max_event_size: number;
  /** Per-subscriber backlog limit in bytes (default Salt's ½·max(5 % of RAM, 10 MiB)). */
  ipc_write_buffer: number;
  /** Over `ipc_write_buffer`: `skip` (default: discard its oldest events, notify, go on) or `disconnect` (Salt). */
  subscriber_overflow: "skip" | "disconnect";
  /** Seconds a subscriber's write may make no progress before it is closed (default 60; 0: never). */
  subscriber_stall_timeout: number;
  /** Largest frame the broker accepts, in bytes (default 16 MiB). */
  max_frame_size: number;
  /** Bytes held for incomplete frames across all publisher connections (default max(64 MiB, 2 × max_frame_size)). */
  partial_frames_limit: number;
  /** Salt's publisher ACL; when set, the pub socket is 0660 (group may listen). */
  publisher_acl?: unknown;
  /** Salt's external auth; when set, the pub socket is 0660. */
  external_auth?: unknown;
  /** saltbus option: make the pub socket 0660 without configuring an ACL. */
  sock_group_access: boolean;
  /** Log level (default `warning`; the `master` command uses `info`). */
  log_level: LogLevel;
  /** Any other option from the file. */
  [option: string]: unknown;
}

/**
 * Default configuration for a node. `sock_dir` is left empty here:
 * {@linkcode resolveConfig} fills in {@linkcode defaultSockDir} when no
 * `sock_dir` is given (so a given one needs no permission to find the default).
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * defaultConfig("master").max_event_size; // 1048576
 * ```
 */
export function defaultConfig(node: NodeKind): BusConfig {
  return {
    node,
    sock_dir: "",
    hash_type: "sha256",
    event_match_type: "startswith",
    max_event_size: DEFAULT_MAX_EVENT_SIZE,
    ipc_write_buffer: DEFAULT_IPC_WRITE_BUFFER,
    subscriber_overflow: "skip",
    subscriber_stall_timeout: DEFAULT_STALL_TIMEOUT_MS / 1000,
    max_frame_size: DEFAULT_MAX_FRAME_SIZE,
    partial_frames_limit: Math.max(DEFAULT_PARTIAL_FRAMES_LIMIT, 2 * DEFAULT_MAX_FRAME_SIZE),
    sock_group_access: false,
    log_level: "warning",
  };
}

/**
 * Builds a checked configuration: defaults for `node`, then `options`
 * (Salt names). `source` names where the options came from, for messages;
 * `log` gets a debug line when the default `ipc_write_buffer` cannot follow
 * Salt's formula (no `--allow-sys`).
 *
 * @throws {ConfigError} naming the option and the source.
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const config = resolveConfig("master", { sock_dir: "/tmp/bus" });
 * config.sock_dir; // "/tmp/bus"
 * ```
 */
export function resolveConfig(
  node: NodeKind,
  options: Record<string, unknown> = {},
  source = "options",
  log?: Logger,
): BusConfig {
  const config: BusConfig = { ...defaultConfig(node) };
  if (options.ipc_write_buffer === undefined) {
    config.ipc_write_buffer = defaultIpcWriteBuffer(log ? { log } : {});
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    config[key] = value;
  }
  config.node = node;
  if (options.sock_dir === undefined) config.sock_dir = defaultSockDir(node);
  const bad = (option: string, expected: string): never => {
    throw new ConfigError(
      `${option} in ${source}: expected ${expected}, got ${JSON.stringify(config[option])}`,
    );
  };
  if (typeof config.sock_dir !== "string" || config.sock_dir === "") bad("sock_dir", "a path");
  if (typeof config.hash_type !== "string") bad("hash_type", "a hash name such as sha256");
  for (const option of ["id", "hash_id"]) {
    if (config[option] !== undefined && config[option] !== null) {
      config[option] = String(config[option]);
    }
  }
  if (!MATCH_TYPES.includes(config.event_match_type)) {
    bad("event_match_type", `one of ${MATCH_TYPES.join(", ")}`);
  }
  if (options.partial_frames_limit === undefined && typeof config.max_frame_size === "number") {
    config.partial_frames_limit = Math.max(DEFAULT_PARTIAL_FRAMES_LIMIT, 2 * config.max_frame_size);
  }
  for (
    const option of ["max_event_size", "ipc_write_buffer", "max_frame_size", "partial_frames_limit"]
  ) {
    const value = config[option];
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      bad(option, "a positive integer (bytes)");
    }
  }
  if (config.partial_frames_limit < config.max_frame_size) {
    bad("partial_frames_limit", `at least max_frame_size (${config.max_frame_size} bytes)`);
  }
  if (!OVERFLOW_POLICIES.includes(config.subscriber_overflow)) {
    bad("subscriber_overflow", OVERFLOW_POLICIES.join(" or "));
  }
  const stall = config.subscriber_stall_timeout;
  if (typeof stall !== "number" || !Number.isFinite(stall) || stall < 0) {
    bad("subscriber_stall_timeout", "seconds >= 0 (0: never)");
  }
  if (typeof config.sock_group_access !== "boolean") bad("sock_group_access", "true or false");
  config.ipc_mode ??= "ipc";
  if (config.ipc_mode !== "ipc" && config.ipc_mode !== "tcp") bad("ipc_mode", "ipc or tcp");
  for (const option of TCP_PORT_OPTIONS[node]) {
    config[option] ??= TCP_PORT_DEFAULTS[option];
    const port = config[option];
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
      bad(option, "a TCP port (1-65535)");
    }
  }
  for (const option of ["master_queue_size", "recon_default", "recon_max", "known_minions_max"]) {
    const value = config[option];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) <= 0)) {
      bad(option, "a positive integer");
    }
  }
  if (config.presence_events !== undefined && typeof config.presence_events !== "boolean") {
    bad("presence_events", "true or false");
  }
  const reactor = config.reactor;
  if (reactor != null && typeof reactor !== "string" && !Array.isArray(reactor)) {
    bad("reactor", "a list of {tag glob: [files]} or the path of a YAML file holding one");
  }
  const loop = config.loop_interval;
  if (loop !== undefined && !(typeof loop === "number" && loop > 0)) {
    bad("loop_interval", "seconds > 0");
  }
  for (const option of ["link_heartbeat_interval", "known_minions_expire"]) {
    const value = config[option];
    if (value !== undefined && !(Number.isFinite(value) && (value as number) > 0)) {
      bad(option, "seconds > 0");
    }
  }
  for (const option of ["master", "master_sock_dir"]) {
    const value = config[option];
    if (value !== undefined && (typeof value !== "string" || value === "")) bad(option, "a string");
  }
  if (config.cachedir !== undefined && (typeof config.cachedir !== "string" || !config.cachedir)) {
    bad("cachedir", "a directory");
  }
  if (config.master_job_cache !== undefined && typeof config.master_job_cache !== "string") {
    bad("master_job_cache", "a returner name such as sqlite");
  }
  if (
    config.transport !== undefined && config.transport !== null &&
    !["nats", "local"].includes(config.transport as string)
  ) {
    bad(
      "transport",
      "nats (minions on other hosts, over a NATS server), or unset for the one-host Unix link",
    );
  }
  if (config.job_cache !== undefined && typeof config.job_cache !== "boolean") {
    bad("job_cache", "true or false");
  }
  const keep = config.keep_jobs_seconds;
  if (keep !== undefined && !(Number.isFinite(keep) && (keep as number) >= 0)) {
    bad("keep_jobs_seconds", "seconds >= 0 (0: keep jobs forever)");
  }
  if (config.module_dirs !== undefined) {
    const dirs = config.module_dirs;
    if (typeof dirs === "string") config.module_dirs = [dirs];
    else if (!Array.isArray(dirs) || dirs.some((d) => typeof d !== "string")) {
      bad("module_dirs", "a list of directories");
    }
  }
  if (!isLogLevel(config.log_level)) bad("log_level", "debug, info, warning, error or quiet");
  try {
    socketPaths(node, pathOptions(config));
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ConfigError(`${err.message} (in ${source})`, { cause: err });
    }
    throw err;
  }
  return config;
}

/**
 * Reads a YAML config file (Salt layout: a mapping of option names) and
 * resolves it with {@linkcode resolveConfig}; `overrides` (e.g. from the
 * command line) win over the file. As Salt's `minion_config`, a minion
 * config without `id` gets the host's name.
 *
 * @throws {PermissionError} without `--allow-sys` when the minion id must be
 * the host name, or without the read permission for the file.
 * @throws {ConfigError} when the file cannot be read, is not YAML, is not a
 * mapping, or holds a bad option value.
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = await loadConfig("master", "/etc/saltbus/master", { sock_dir: "/tmp/bus" });
 * ```
 */
export async function loadConfig(
  node: NodeKind,
  file?: string,
  overrides: Record<string, unknown> = {},
): Promise<BusConfig> {
  const config = await readConfig(node, file, overrides);
  // Salt's minion_config: without an `id`, the minion is named after the host.
  if (node === "minion" && (config.id === undefined || config.id === null)) {
    config.id = defaultMinionId();
  }
  return config;
}

async function readConfig(
  node: NodeKind,
  file: string | undefined,
  overrides: Record<string, unknown>,
): Promise<BusConfig> {
  if (file === undefined) return resolveConfig(node, overrides);
  const parsed = await readYamlFile(file, "config file") ?? {};
  if (!isMapping(parsed)) {
    throw new ConfigError(`config file ${file} must be a mapping of option: value`);
  }
  return resolveConfig(node, { ...(parsed as Record<string, unknown>), ...overrides }, file);
}

/**
 * The socket paths a configuration points at.
 *
 * @example
 * ```ts
 * import { configSocketPaths, resolveConfig } from "./config.ts";
 * configSocketPaths(resolveConfig("master", { sock_dir: "/tmp/bus" })).pub;
 * // "/tmp/bus/master_event_pub.ipc"
 * ```
 */
export function configSocketPaths(config: BusConfig): SocketPaths {
  if (config.ipc_mode === "tcp") {
    const [pub, pull] = TCP_PORT_OPTIONS[config.node];
    return {
      pub: tcpAddress(config[pub] as number),
      pull: tcpAddress(config[pull] as number),
    };
  }
  return socketPaths(config.node, pathOptions(config));
}

/**
 * Salt's port options of a TCP bus (`ipc_mode: tcp`), pub then pull, and
 * their defaults (spec §17): 4512/4513 for the master, 4510/4511 for a minion.
 */
export const TCP_PORT_OPTIONS: Readonly<Record<NodeKind, readonly [string, string]>> = Object
  .freeze({
    master: ["tcp_master_pub_port", "tcp_master_pull_port"] as const,
    minion: ["tcp_pub_port", "tcp_pull_port"] as const,
  });

const TCP_PORT_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  tcp_master_pub_port: 4512,
  tcp_master_pull_port: 4513,
  tcp_pub_port: 4510,
  tcp_pull_port: 4511,
});

/**
 * File mode of the pub socket: 0660 when group access is configured
 * (`publisher_acl`, `external_auth` or `sock_group_access`), else 0600.
 *
 * @example
 * ```ts
 * import { pubSocketMode, resolveConfig } from "./config.ts";
 * pubSocketMode(resolveConfig("master", { publisher_acl: { bob: [".*"] } })).toString(8); // "660"
 * ```
 */
export function pubSocketMode(config: BusConfig): number {
  const acl = (value: unknown) =>
    value !== undefined && value !== null && value !== false &&
    !(typeof value === "object" && Object.keys(value as object).length === 0);
  return config.node === "master" &&
      (acl(config.publisher_acl) || acl(config.external_auth) || config.sock_group_access)
    ? 0o660
    : 0o600;
}

function pathOptions(config: BusConfig) {
  return {
    sockDir: config.sock_dir,
    id: config.id,
    hashId: config.hash_id,
    hashType: config.hash_type,
  };
}
