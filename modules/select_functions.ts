/**
 * Which functions a `sys.doc`-style list of names selects (Salt's rules).
 *
 * @module
 */
import { fnmatch } from "../bus/tag_match.ts";

/**
 * The functions `sys.doc` selects for `names`: all when empty; per name a
 * glob when it has `*`, else the exact function and every function of the
 * module (`sys` or `sys.` select `sys.*`, not `sysctl.*`). Sorted.
 *
 * @example
 * ```ts
 * import { selectFunctions } from "./select_functions.ts";
 * selectFunctions(["sys.doc", "sysctl.get", "test.ping"], ["sys"]); // ["sys.doc"]
 * ```
 */
export function selectFunctions(all: readonly string[], names: readonly string[]): string[] {
  if (names.length === 0) return [...all].sort();
  const selected = new Set<string>();
  for (const name of names) {
    if (name.includes("*")) {
      for (const fun of all) if (fnmatch(fun, name)) selected.add(fun);
      continue;
    }
    const prefix = name === "" ? "" : name.endsWith(".") ? name : name + ".";
    for (const fun of all) if (fun === name || fun.startsWith(prefix)) selected.add(fun);
  }
  return [...selected].sort();
}
