/**
 * The minion id when the configuration sets none, as Salt's: the host's
 * name (Salt's `salt.config.get_id` starts from the FQDN).
 *
 * @module
 */
import { withPermission } from "./permission.ts";

/**
 * This host's name, the id of a minion whose config has no `id`.
 *
 * @throws {PermissionError} without `--allow-sys` (Deno.hostname).
 * @example
 * ```ts
 * import { defaultMinionId } from "./minion_id.ts";
 * console.log(defaultMinionId()); // e.g. "web1"
 * ```
 */
export function defaultMinionId(): string {
  return withPermission(
    "finding the minion id (the host name, as Salt; or set id)",
    () => Deno.hostname(),
  );
}
