/**
 * Salt's `json` outputter (`--out json`): Python's `json.dumps` with
 * `indent=4` (and `ensure_ascii=False`, as `salt.utils.json.dumps`).
 *
 * @module
 */
import { pythonJsonDumps } from "./python_json.ts";

/** Options of {@linkcode json}. */
export interface JsonOutputOptions {
  /**
   * Salt's `output_indent`: spaces per level (default 4), `null` or a
   * negative number for one line, `"pretty"` for 4 spaces and sorted keys.
   */
  indent?: number | null | "pretty";
}

/**
 * Formats `value` as Salt's `--out json` does.
 *
 * @example
 * ```ts
 * import { json } from "./json.ts";
 * json({ local: true }); // '{\n    "local": true\n}'
 * json({ local: true }, { indent: null }); // '{"local": true}'
 * ```
 */
export function json(value: unknown, options: JsonOutputOptions = {}): string {
  const indent = options.indent === undefined ? 4 : options.indent;
  if (indent === "pretty") return pythonJsonDumps(value, { indent: 4, sortKeys: true });
  if (indent === null || indent < 0) return pythonJsonDumps(value);
  try {
    return pythonJsonDumps(value, { indent });
  } catch {
    // Salt: "Return valid JSON for unserializable objects".
    return "{}";
  }
}
