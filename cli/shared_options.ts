/**
 * Options that several commands share: Salt's target types (`-L`, `-E`,
 * `-G`, `-C`) for `<target> <fun>` and `proxy`, and `--out`.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import type { TargetType } from "../jobs/target.ts";
import { isOutputterName, type OutputterName, OUTPUTTERS } from "../output/outputter.ts";
import type { Values } from "./exit_codes.ts";

/**
 * The target-type flags, for `parseArgs`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import { TARGET_OPTIONS } from "./shared_options.ts";
 * parseArgs({ args: ["-G", "os:Debian"], options: TARGET_OPTIONS, allowPositionals: true });
 * ```
 */
export const TARGET_OPTIONS = {
  list: { type: "boolean", short: "L" },
  pcre: { type: "boolean", short: "E" },
  grain: { type: "boolean", short: "G" },
  compound: { type: "boolean", short: "C" },
} as const;

/**
 * The target and its type from the flags: a list target is split on commas.
 *
 * @throws {UsageError} when more than one target type is given.
 * @example
 * ```ts
 * import { targetFrom } from "./shared_options.ts";
 * targetFrom({ list: true }, "web1,db1"); // { tgt: ["web1", "db1"], tgtType: "list" }
 * ```
 */
export function targetFrom(
  values: Values,
  target: string,
): { tgt: string | string[]; tgtType: TargetType } {
  const types = (Object.keys(TARGET_OPTIONS) as (keyof typeof TARGET_OPTIONS)[])
    .filter((t) => values[t]);
  if (types.length > 1) {
    throw new UsageError(`choose one target type, not ${types.map((t) => `--${t}`).join(" and ")}`);
  }
  const tgtType: TargetType = types[0] ?? "glob";
  return { tgt: tgtType === "list" ? target.split(",").filter((s) => s !== "") : target, tgtType };
}

/**
 * The `--out` outputter (default `nested`).
 *
 * @throws {UsageError} for an unknown outputter.
 * @example
 * ```ts
 * import { outFrom } from "./shared_options.ts";
 * outFrom({ out: "json" }); // "json"
 * ```
 */
export function outFrom(values: Values): OutputterName {
  const out = (values.out as string | undefined) ?? "nested";
  if (!isOutputterName(out)) {
    throw new UsageError(`--out must be one of ${OUTPUTTERS.join(", ")}, not '${out}'`);
  }
  return out;
}

/**
 * Prints formatted output without doubling its final newline.
 *
 * @example
 * ```ts
 * import { printOutput } from "./shared_options.ts";
 * printOutput("local:\n    True\n");
 * ```
 */
export function printOutput(text: string): void {
  if (text !== "") console.log(text.replace(/\n$/, ""));
}

/**
 * `--out-indent N` (Salt's `output_indent`: the spaces of each level of
 * `--out json`); `undefined` without it.
 *
 * @throws {UsageError} for a value that is not a whole number ≥ 0.
 * @example
 * ```ts
 * import { indentFrom } from "./shared_options.ts";
 * indentFrom({ "out-indent": "2" }); // 2
 * ```
 */
export function indentFrom(values: Values): number | undefined {
  const raw = values["out-indent"];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--out-indent must be a whole number >= 0, not '${raw}'`);
  }
  return n;
}

/** `--no-color` and `--force-color`, as Salt's CLI takes them. */
export const COLOR_OPTIONS = {
  "no-color": { type: "boolean" },
  "force-color": { type: "boolean" },
} as const;

/**
 * Whether the `nested` outputter colours its output, as Salt decides: on a
 * terminal unless `--no-color` (or `NO_COLOR` is set), always with
 * `--force-color`.
 *
 * @throws {UsageError} when both flags are given.
 * @example
 * ```ts
 * import { colorFrom } from "./shared_options.ts";
 * colorFrom({ "force-color": true }); // true
 * ```
 */
export function colorFrom(values: Values): boolean {
  if (values["no-color"] === true && values["force-color"] === true) {
    throw new UsageError("--no-color and --force-color do not go together");
  }
  if (values["force-color"] === true) return true;
  if (values["no-color"] === true) return false;
  let noColor = false;
  try {
    noColor = (Deno.env.get("NO_COLOR") ?? "") !== "";
  } catch {
    // no --allow-env: colour by the terminal alone
  }
  return !noColor && Deno.stdout.isTerminal();
}
