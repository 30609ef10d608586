/**
 * Salt's `txt` outputter (`--out txt`): `key: line` for each line of each
 * value of a mapping; other values as Python prints them.
 *
 * @module
 */
import { pythonRepr, pythonSplitLines, pythonStr } from "./python_repr.ts";

/**
 * Formats `value` as Salt's `--out txt` does.
 *
 * @example
 * ```ts
 * import { txt } from "./txt.ts";
 * txt({ local: "line 1\nline 2" }); // "local: line 1\nlocal: line 2\n"
 * txt({ local: true }); // "local: True\n"
 * ```
 */
export function txt(value: unknown): string {
  let ret = "";
  if (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Set) && !(value instanceof Uint8Array)
  ) {
    const entries: [unknown, unknown][] = value instanceof Map
      ? [...value.entries()]
      : Object.entries(value as Record<string, unknown>);
    for (const [key, val] of entries) {
      const k = pythonStr(key);
      if (typeof val === "string") {
        for (const line of pythonSplitLines(val)) ret += `${k}: ${line}\n`;
      } else {
        ret += `${k}: ${pythonStr(val)}\n`;
      }
    }
  } else if (typeof value === "string") {
    ret += value + "\n";
  } else {
    ret += pythonRepr(value) + "\n";
  }
  return ret;
}
