/**
 * Salt's outputters by name, for `--out`: `nested` (the default), `json`,
 * `yaml`, `txt`, `quiet`.
 *
 * @module
 */
import { json } from "./json.ts";
import { nested } from "./nested.ts";
import { txt } from "./txt.ts";
import { yaml } from "./yaml.ts";

/**
 * An outputter name.
 *
 * @example
 * ```ts
 * import type { OutputterName } from "./outputter.ts";
 * const out: OutputterName = "nested";
 * ```
 */
export type OutputterName = "nested" | "json" | "yaml" | "txt" | "quiet";

/**
 * The outputter names `formatOutput` knows.
 *
 * @example
 * ```ts
 * import { OUTPUTTERS } from "./outputter.ts";
 * OUTPUTTERS.includes("json"); // true
 * ```
 */
export const OUTPUTTERS: readonly OutputterName[] = Object.freeze([
  "nested",
  "json",
  "yaml",
  "txt",
  "quiet",
]);

/**
 * Whether `name` is an outputter name.
 *
 * @example
 * ```ts
 * import { isOutputterName } from "./outputter.ts";
 * isOutputterName("yaml"); // true
 * isOutputterName("highstate"); // false
 * ```
 */
export function isOutputterName(name: unknown): name is OutputterName {
  return typeof name === "string" && (OUTPUTTERS as readonly string[]).includes(name);
}

/** Options of {@linkcode formatOutput}. */
export interface FormatOutputOptions {
  /** `nested`: ANSI colours (Salt's `color`); default `false`. */
  color?: boolean;
  /** `nested`: base indentation (Salt's `nested_indent`). `json`: Salt's `output_indent`. */
  indent?: number | null | "pretty";
  /** `nested`: the job's retcode; non-zero shows keys in red when coloured. */
  retcode?: number;
}

/**
 * Formats a return as `salt-call --out <out>` prints it: the outputter's
 * text with trailing whitespace removed and one newline added (Salt's
 * `display_output`); `quiet` gives `""`. `salt-call` passes
 * `{ [minionId]: ret }`, e.g. `{ local: true }`.
 *
 * @example
 * ```ts
 * import { formatOutput } from "./outputter.ts";
 * formatOutput({ local: true }, "nested"); // "local:\n    True\n"
 * formatOutput({ local: true }, "json"); // '{\n    "local": true\n}\n'
 * formatOutput({ local: true }, "quiet"); // ""
 * ```
 */
export function formatOutput(
  value: unknown,
  out: OutputterName = "nested",
  options: FormatOutputOptions = {},
): string {
  let text: string;
  switch (out) {
    case "quiet":
      return "";
    case "json":
      text = json(value, { indent: options.indent });
      break;
    case "yaml":
      text = yaml(value);
      break;
    case "txt":
      text = txt(value);
      break;
    case "nested":
      text = nested(value, {
        indent: typeof options.indent === "number" ? options.indent : 0,
        color: options.color,
        retcode: options.retcode,
      });
      break;
    default:
      throw new TypeError(
        `unknown outputter ${JSON.stringify(out)}: use one of ${OUTPUTTERS.join(", ")}`,
      );
  }
  return text.replace(/\s+$/, "") + "\n";
}
