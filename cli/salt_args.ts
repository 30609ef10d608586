/**
 * Salt-style command arguments: positional values and `name=value` keyword
 * arguments, each value read as YAML 1.1 the way Salt's `yamlify_arg` reads
 * it, so `salt-call event.send my/tag '{success: True}'` means the same here.
 *
 * @module
 */

import { parse } from "npm:yaml@2.9.1";
import { pythonTags } from "../bus/python_yaml.ts";
import { permissionError } from "../bus/permission.ts";
import { UsageError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";

const NULL_LITERAL = /^\s*(?:~|null|Null|NULL)\s*$/;
const EMPTY_QUOTED = /^\s*(?:""|'')\s*$/;

const YAML_OPTIONS = {
  version: "1.1",
  customTags: pythonTags,
  intAsBigInt: true,
  uniqueKeys: false,
  logLevel: "error",
} as const;

/** Turns bigints that fit a number into numbers, everywhere in the value. */
function narrowIntegers(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrowIntegers(value[i]);
  } else if (isMapping(value)) {
    for (const key of Object.keys(value)) value[key] = narrowIntegers(value[key]);
  }
  return value;
}

/**
 * Reads one command-line value the way Salt's `yamlify_arg` does: as YAML 1.1
 * (PyYAML's flavour), keeping the original text whenever YAML would lose or
 * mangle it.
 *
 * - `True`, `yes`, `on` → `true`; `False`, `no`, `off` → `false`; `~`,
 *   `null` and Salt's `None` → `null`; `2024`, `-1`, `0x1f`, `1.5` →
 *   numbers (integers beyond 2^53 stay exact as bigints); `"quoted"` → the
 *   string inside.
 * - A flow map `{…}` or flow list `[…]` (YAML or JSON) → an object or array.
 *   A map or list written any other way (`a: b`, `- a`) stays a string, as
 *   in Salt.
 * - Kept as the original string: empty or blank text; text containing `#`
 *   unless it is a flow map or list (YAML would drop the "comment"); text
 *   containing a newline unless it is a flow map or list (YAML would fold
 *   the lines); text that YAML reads as a date, bytes, a set, an empty value
 *   (`!`, `|`, `&a`) or cannot parse.
 *
 * @throws {UsageError} when text starting with `{` or `[` is not valid YAML.
 *
 * @example
 * ```ts
 * import { parseYamlValue } from "./salt_args.ts";
 * console.log(parseYamlValue("True")); // true
 * console.log(parseYamlValue('{success: True, message: "It works!"}'));
 * // { success: true, message: "It works!" }
 * console.log(parseYamlValue("salt/job/*")); // "salt/job/*"
 * ```
 */
export function parseYamlValue(text: string): unknown {
  if (text.trim() === "") return text;
  if (text === "None") return null;
  const start = text.trimStart()[0];
  const structured = start === "{" || start === "[";
  if (!structured && text.includes("\n")) return text;
  let value: unknown;
  try {
    value = parse(text, YAML_OPTIONS);
  } catch (e) {
    const denied = permissionError(e, "reading YAML arguments");
    if (denied) throw denied;
    if (!structured) return text;
    const reason = (e as Error).message.split("\n")[0];
    throw new UsageError(
      `argument ${JSON.stringify(text)} is not valid YAML: ${reason}; ` +
        `fix it, or quote the whole value to pass it as a string`,
      { cause: e },
    );
  }
  if (Array.isArray(value)) return start === "[" ? narrowIntegers(value) : text;
  if (isMapping(value)) return start === "{" ? narrowIntegers(value) : text;
  if (text.includes("#")) return text;
  switch (typeof value) {
    case "string":
      return value === "" && !EMPTY_QUOTED.test(text) ? text : value;
    case "number":
    case "boolean":
      return value;
    case "bigint":
      return narrowIntegers(value);
  }
  if (value === null && NULL_LITERAL.test(text)) return null;
  return text;
}

/**
 * Command arguments split Salt's way: positional values and keyword values.
 *
 * @example
 * ```ts
 * import type { SaltArgs } from "./salt_args.ts";
 * const parsed: SaltArgs = { args: ["my/tag"], kwargs: { count: 1 } };
 * ```
 */
export interface SaltArgs {
  /** Positional values, in order, each read by {@link parseYamlValue}. */
  args: unknown[];
  /** Keyword values (`name=value`), each read by {@link parseYamlValue}; the last one wins. */
  kwargs: Record<string, unknown>;
}

const KWARG = /^([A-Za-z_][A-Za-z0-9_]*)=(?!=)/;

/**
 * Splits Salt-style arguments: `name=value`, where `name` is an identifier
 * (`^[A-Za-z_][A-Za-z0-9_]*$`) and the value does not start with another `=`,
 * is a keyword argument; anything else (`my/tag`, `{"a": "b=c"}`, `a==b`) is
 * positional. Every value is read by {@link parseYamlValue}.
 *
 * @throws {UsageError} when a value starting with `{` or `[` is not valid YAML.
 *
 * @example
 * ```ts
 * import { parseSaltArgs } from "./salt_args.ts";
 * const { args, kwargs } = parseSaltArgs(["my/tag", "{success: True}", "count=-1"]);
 * console.log(args); // ["my/tag", { success: true }]
 * console.log(kwargs); // { count: -1 }
 * ```
 */
export function parseSaltArgs(argv: readonly string[]): SaltArgs {
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  for (const arg of argv) {
    const match = KWARG.exec(arg);
    if (match === null) {
      args.push(parseYamlValue(arg));
    } else {
      // defineProperty so that a name like __proto__ is an ordinary key.
      Object.defineProperty(kwargs, match[1], {
        value: parseYamlValue(arg.slice(match[0].length)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { args, kwargs };
}
