/**
 * Event socket paths (spec §1.2, §1.3): where a master's or a minion's bus
 * listens, with Salt's file names and minion id hash.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { ConfigError } from "./errors.ts";
import { withPermission } from "./permission.ts";

/**
 * Which daemon's bus: the master's or a minion's.
 *
 * @example
 * ```ts
 * import type { NodeKind } from "./paths.ts";
 * const node: NodeKind = "master";
 * ```
 */
export type NodeKind = "master" | "minion";

/**
 * Python `hashlib` algorithm names Salt accepts as `hash_type`, mapped to
 * their `node:crypto` names.
 */
const HASH_ALGORITHMS: Readonly<Record<string, string>> = Object.freeze({
  md5: "md5",
  sha1: "sha1",
  sha224: "sha224",
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  sha3_224: "sha3-224",
  sha3_256: "sha3-256",
  sha3_384: "sha3-384",
  sha3_512: "sha3-512",
  blake2b: "blake2b512",
  blake2s: "blake2s256",
});

/**
 * The `<H>` of a minion's socket names: the first 10 lowercase hex characters
 * of the `hashType` digest of the UTF-8 minion id.
 *
 * @param id the minion id (`hash_id`, else `id`; `""` when missing).
 * @param hashType a Python `hashlib` name (`md5`, `sha1`, `sha224`, `sha256`,
 * `sha384`, `sha512`, `sha3_224` … `sha3_512`, `blake2b`, `blake2s`);
 * default `sha256`.
 * @returns 10 hex characters.
 * @throws {ConfigError} when `hashType` is not one of those names.
 *
 * @example
 * ```ts
 * import { minionHash } from "./paths.ts";
 * console.log(minionHash("foo")); // "2c26b46b68"
 * console.log(minionHash("foo", "md5")); // "acbd18db4c"
 * ```
 */
export function minionHash(id: string, hashType: string = "sha256"): string {
  if (!Object.hasOwn(HASH_ALGORITHMS, hashType)) {
    throw new ConfigError(
      `hash_type ${JSON.stringify(hashType)} is not a supported hash algorithm: ` +
        `set hash_type to one of ${Object.keys(HASH_ALGORITHMS).join(", ")}`,
    );
  }
  return createHash(HASH_ALGORITHMS[hashType]).update(id, "utf8").digest("hex").slice(0, 10);
}

/**
 * Where to find a bus's sockets.
 *
 * @example
 * ```ts
 * import type { SocketPathOptions } from "./paths.ts";
 * const options: SocketPathOptions = { sockDir: "/var/run/salt/minion", id: "web1" };
 * ```
 */
export interface SocketPathOptions {
  /** The directory holding the sockets (Salt's `sock_dir`). */
  sockDir: string;
  /** The minion id (Salt's `id`); used for minion sockets when `hashId` is not set. */
  id?: string;
  /** Salt's `hash_id`: when set, hashed instead of `id` for minion sockets. */
  hashId?: string;
  /** Salt's `hash_type` for the minion id hash; default `sha256`. */
  hashType?: string;
}

/**
 * The two sockets of a bus.
 *
 * @example
 * ```ts
 * import { socketPaths, type SocketPaths } from "./paths.ts";
 * const paths: SocketPaths = socketPaths("master", { sockDir: "/tmp/s" });
 * console.log(paths.pub); // "/tmp/s/master_event_pub.ipc"
 * ```
 */
export interface SocketPaths {
  /** The publish socket: subscribers connect here and read. */
  pub: string;
  /** The pull socket: firers connect here and write. */
  pull: string;
}

/**
 * The socket paths of a master or minion bus (spec §1.3):
 * `master_event_{pub,pull}.ipc` or `minion_event_<H>_{pub,pull}.ipc`, with
 * `<H>` = {@link minionHash} of `hashId ?? id ?? ""`.
 *
 * @throws {ConfigError} for a minion when `hashType` is not supported.
 *
 * @example
 * ```ts
 * import { socketPaths } from "./paths.ts";
 * const { pub, pull } = socketPaths("minion", { sockDir: "/tmp/s", id: "foo" });
 * console.log(pub); // "/tmp/s/minion_event_2c26b46b68_pub.ipc"
 * console.log(pull); // "/tmp/s/minion_event_2c26b46b68_pull.ipc"
 * ```
 */
export function socketPaths(node: NodeKind, options: SocketPathOptions): SocketPaths {
  if (node === "master") {
    return {
      pub: join(options.sockDir, "master_event_pub.ipc"),
      pull: join(options.sockDir, "master_event_pull.ipc"),
    };
  }
  const hash = minionHash(options.hashId ?? options.id ?? "", options.hashType);
  return {
    pub: join(options.sockDir, `minion_event_${hash}_pub.ipc`),
    pull: join(options.sockDir, `minion_event_${hash}_pull.ipc`),
  };
}

const FOR_SOCK_DIR = "finding the default sock_dir (or set sock_dir)";

/** Reads an environment variable; a refused permission is a {@linkcode PermissionError}. */
function envVar(name: string): string | undefined {
  return withPermission(`${FOR_SOCK_DIR}: reading ${name}`, () => Deno.env.get(name));
}

/** The current uid as text; `"user"` on Windows, where there is none. */
function uidText(): string {
  const uid = withPermission(`${FOR_SOCK_DIR}: reading the uid`, () => Deno.uid());
  return uid === null ? "user" : String(uid);
}

/**
 * saltbus's default `sock_dir`, usable without root:
 * `$XDG_RUNTIME_DIR/saltbus/<node>` when `XDG_RUNTIME_DIR` is set and not
 * empty, else `/tmp/saltbus-<uid>/<node>`. Salt's own defaults are in
 * {@link SALT_SOCK_DIRS}. On Windows the uid is `user`.
 *
 * @throws {PermissionError} without `--allow-env` (to read `XDG_RUNTIME_DIR`)
 * or `--allow-sys` (for the uid): a guessed path would point at the wrong bus.
 *
 * @example
 * ```ts
 * import { defaultSockDir } from "./paths.ts";
 * console.log(defaultSockDir("master")); // e.g. "/run/user/1000/saltbus/master"
 * ```
 */
export function defaultSockDir(node: NodeKind): string {
  const runtime = envVar("XDG_RUNTIME_DIR");
  if (runtime) return join(runtime, "saltbus", node);
  return join("/tmp", `saltbus-${uidText()}`, node);
}

/**
 * The address of a bus socket on loopback TCP (`ipc_mode: tcp`), in the form
 * the transport layer dials and binds: `tcp://127.0.0.1:<port>`. Salt binds
 * and connects on 127.0.0.1 only (spec §17).
 *
 * @example
 * ```ts
 * import { tcpAddress } from "./paths.ts";
 * tcpAddress(4512); // "tcp://127.0.0.1:4512"
 * ```
 */
export function tcpAddress(port: number, hostname = "127.0.0.1"): string {
  return `tcp://${hostname}:${port}`;
}

/**
 * Salt's default `sock_dir` per daemon (`/var/run/salt/master`,
 * `/var/run/salt/minion`): set `sock_dir` to these to share a bus with a Salt
 * install.
 *
 * @example
 * ```ts
 * import { SALT_SOCK_DIRS, socketPaths } from "./paths.ts";
 * const { pub } = socketPaths("master", { sockDir: SALT_SOCK_DIRS.master });
 * console.log(pub); // "/var/run/salt/master/master_event_pub.ipc"
 * ```
 */
export const SALT_SOCK_DIRS: Readonly<Record<NodeKind, string>> = Object.freeze({
  master: "/var/run/salt/master",
  minion: "/var/run/salt/minion",
});
