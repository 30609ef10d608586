/**
 * Salt's `yaml` outputter (`--out yaml`): block style, keys sorted (PyYAML's
 * `safe_dump(default_flow_style=False)`), lists not indented under their key.
 *
 * @module
 */
import { stringify } from "npm:yaml@2.9.1";

function sortEntries(a: { key: unknown }, b: { key: unknown }): number {
  const x = String(a.key);
  const y = String(b.key);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Formats `value` as Salt's `--out yaml` does (close to PyYAML's layout;
 * long and multi-line strings may be laid out differently).
 *
 * @example
 * ```ts
 * import { yaml } from "./yaml.ts";
 * yaml({ local: { b: [1, 2], a: true } }); // "local:\n  a: true\n  b:\n  - 1\n  - 2\n"
 * ```
 */
export function yaml(value: unknown): string {
  return stringify(value ?? null, {
    version: "1.1",
    sortMapEntries: sortEntries,
    indentSeq: false,
    singleQuote: true,
    lineWidth: 80,
    aliasDuplicateObjects: false,
    keepUndefined: false,
  });
}
