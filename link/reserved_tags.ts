/**
 * Tags a minion may not put on the master bus (spec §1.8, CVE-2025-22236):
 * job, key, auth, runner, wheel, cloud, cluster, presence, webhook and
 * reactor-management events are the master's own, and so are the bus's own
 * `saltbus/…` notices; a minion speaking for another minion (its start,
 * beacon or refresh tags) is refused too. A `client` link (`call`, a script)
 * may not send a minion daemon's own tags at all, even for its own id.
 *
 * @module
 */
import { isJid } from "../bus/jid.ts";

/**
 * Tag prefixes reserved for the master. A prefix ending with `/` matches what
 * starts with it; one without also matches the bare tag and `<prefix>/…`
 * (so `salt/key` covers `salt/key` and `salt/key/x`, not `salt/keyring`).
 */
export const RESERVED_TAG_PREFIXES: readonly string[] = Object.freeze([
  "salt/job/",
  "salt/key",
  "salt/auth",
  "salt/run/",
  "salt/wheel/",
  "salt/cloud/",
  "salt/cluster/",
  "cluster/",
  "salt/presence",
  "salt/netapi",
  "salt/engines/hook",
  "salt/reactors/manage",
  "salt/event/exit",
  "saltbus",
]);

/** Tags only a minion daemon sends for itself (its start events, beacons, refreshes). */
const MINION_OWN_TAGS: readonly RegExp[] = Object.freeze([
  /^salt\/minion(?:\/([^/]*))?(?:\/|$)/,
  /^salt\/beacon(?:\/([^/]*))?(?:\/|$)/,
  /^minion\/refresh(?:\/(.*))?$/,
]);

/** Who sends an event over the link: a minion daemon, or a one-shot `client`. */
export type SenderRole = "minion" | "client";

/**
 * Why `id` may not fire `tag` onto the master bus, or `null` when it may.
 * `role` is the kind of link it came on (default `minion`): a `client` may
 * not send `minion_start`, `salt/minion/…`, `salt/beacon/…` or
 * `minion/refresh/…` at all.
 *
 * @example
 * ```ts
 * import { reservedTagReason } from "./reserved_tags.ts";
 * reservedTagReason("salt/job/20240501123456789012/ret/web1", "web1"); // "reserved for the master (salt/job/)"
 * reservedTagReason("myco/deploy/done", "web1"); // null
 * reservedTagReason("salt/minion/db1/start", "web1"); // "another minion's tag (db1), sent by web1"
 * reservedTagReason("salt/minion/web1/start", "web1", "client"); // "…only the minion daemon's link…"
 * ```
 */
export function reservedTagReason(
  tag: string,
  id: string,
  role: SenderRole = "minion",
): string | null {
  for (const prefix of RESERVED_TAG_PREFIXES) {
    if (tag.startsWith(prefix)) {
      if (prefix.endsWith("/") || tag.length === prefix.length || tag[prefix.length] === "/") {
        return `reserved for the master (${prefix})`;
      }
    }
  }
  if (isJid(tag)) return "reserved for the master (a job id)";
  if (role === "client" && tag === "minion_start") {
    return `only the minion daemon's link may send ${tag}, not a client link (${id})`;
  }
  for (const pattern of MINION_OWN_TAGS) {
    const match = pattern.exec(tag);
    if (match === null) continue;
    const owner = match[1];
    if (owner === undefined || owner === "") return `names no minion (${tag}), sent by ${id}`;
    if (owner !== id) return `another minion's tag (${owner}), sent by ${id}`;
    if (role === "client") {
      return `only the minion daemon's link may send ${tag}, not a client link (${id})`;
    }
  }
  return null;
}
