/**
 * Salt's key matching (`salt.key.Key.name_match` / `dict_match`): a glob,
 * a comma-separated string or list of globs, or a mapping of key states to
 * ids.
 *
 * @module
 */
import { isMapping } from "../bus/mapping.ts";
import { fnmatch } from "../bus/tag_match.ts";

/**
 * The ids of `ids` that `match` names.
 *
 * @example
 * ```ts
 * import { matchKeys } from "./key_match.ts";
 * matchKeys(["db1", "web1", "web2"], "web*"); // ["web1", "web2"]
 * matchKeys(["db1", "web1"], "db1,web1"); // ["db1", "web1"]
 * matchKeys(["db1", "web1"], { minions: ["db1"] }); // ["db1"]
 * ```
 */
export function matchKeys(ids: readonly string[], match: unknown): string[] {
  let globs: string[];
  if (isMapping(match)) {
    globs = Object.values(match).flatMap((v) => Array.isArray(v) ? v.map(String) : [String(v)]);
    return ids.filter((id) => globs.includes(id));
  }
  if (Array.isArray(match)) globs = match.map(String);
  else if (match === null || match === undefined) globs = [];
  else globs = String(match).split(",").map((s) => s.trim()).filter((s) => s !== "");
  return ids.filter((id) => globs.some((g) => fnmatch(id, g)));
}
