/**
 * Tags a minion may not put on the master bus (spec §1.8, CVE-2025-22236):
 * job, key, auth, runner, wheel, cloud and cluster events are the master's
 * own; a minion speaking for another minion is refused too.
 *
 * @module
 */
import { isJid } from "../bus/jid.ts";

/** Tag prefixes reserved for the master. A prefix ending without `/` also matches the bare tag. */
export const RESERVED_TAG_PREFIXES: readonly string[] = Object.freeze([
  "salt/job/",
  "salt/key",
  "salt/auth",
  "salt/run/",
  "salt/wheel/",
  "salt/cloud/",
  "salt/cluster/",
  "cluster/",
]);

/**
 * Why minion `id` may not fire `tag` onto the master bus, or `null` when it
 * may.
 *
 * @example
 * ```ts
 * import { reservedTagReason } from "./reserved_tags.ts";
 * reservedTagReason("salt/job/20240501123456789012/ret/web1", "web1"); // "reserved for the master (salt/job/)"
 * reservedTagReason("myco/deploy/done", "web1"); // null
 * reservedTagReason("salt/minion/db1/start", "web1"); // "…another minion's tag"
 * ```
 */
export function reservedTagReason(tag: string, id: string): string | null {
  for (const prefix of RESERVED_TAG_PREFIXES) {
    if (tag.startsWith(prefix)) {
      if (prefix.endsWith("/") || tag.length === prefix.length || tag[prefix.length] === "/") {
        return `reserved for the master (${prefix})`;
      }
    }
  }
  if (isJid(tag)) return "reserved for the master (a job id)";
  const minion = /^salt\/minion\/([^/]*)\//.exec(tag) ?? /^minion\/refresh\/(.*)$/.exec(tag);
  if (minion && minion[1] !== id) return `another minion's tag (${minion[1]}), sent by ${id}`;
  return null;
}
