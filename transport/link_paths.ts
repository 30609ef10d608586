/**
 * Where the master listens for its minions on one host.
 *
 * @module
 */
import { join } from "node:path";

/** File name of the master's minion link socket, beside `master_event_pub.ipc`. */
export const MASTER_LINK_SOCKET = "master_minion_link.ipc";

/**
 * The minion link socket in a master's `sock_dir`.
 *
 * @example
 * ```ts
 * import { masterLinkPath } from "./link_paths.ts";
 * masterLinkPath("/var/run/salt/master"); // "/var/run/salt/master/master_minion_link.ipc"
 * ```
 */
export function masterLinkPath(sockDir: string): string {
  return join(sockDir, MASTER_LINK_SOCKET);
}
