/**
 * YAML read the way Salt reads it: YAML 1.1 with PyYAML's resolvers, for
 * config files, reaction files and command arguments alike.
 *
 * @module
 */
import { parse, type ScalarTag, type Tags } from "npm:yaml@2.9.1";

const BOOL_TAG = "tag:yaml.org,2002:bool";
const FLOAT_TAG = "tag:yaml.org,2002:float";
const INT_TAG = "tag:yaml.org,2002:int";
const TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";

// PyYAML's YAML 1.1 resolvers, which are narrower than the `yaml` package's:
// `y`/`n` are strings, decimal ints have no leading zero (`09` is a string),
// floats need a dot and a signed exponent.
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const PY_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/;
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/;
const PY_INT = /^[-+]?(?:0|[1-9][0-9_]*)$/;

/**
 * Adjusts the `yaml` package's YAML 1.1 tags to PyYAML's (Salt's loader):
 * `y`/`n` are strings, decimal ints have no leading zero, floats need a dot,
 * and dates stay strings. Pass it as `customTags`.
 *
 * @example
 * ```ts
 * import { parse } from "npm:yaml@2.9.1";
 * import { pythonTags } from "./python_yaml.ts";
 * parse("{n: 7, ok: yes}", { version: "1.1", customTags: pythonTags }); // { n: 7, ok: true }
 * ```
 */
export function pythonTags(tags: Tags): Tags {
  const out: Tags = [];
  for (const tag of tags) {
    if (typeof tag === "string") {
      out.push(tag);
      continue;
    }
    if (tag.tag === TIMESTAMP_TAG) continue;
    const scalar = tag as ScalarTag;
    if (scalar.test instanceof RegExp) {
      if (tag.tag === BOOL_TAG) {
        out.push({ ...scalar, test: scalar.test.test("true") ? PY_TRUE : PY_FALSE });
        continue;
      }
      if (tag.tag === INT_TAG && scalar.format === undefined) {
        out.push({ ...scalar, test: PY_INT });
        continue;
      }
      if (tag.tag === FLOAT_TAG && scalar.format === "EXP") {
        out.push({ ...scalar, test: PY_FLOAT_EXP });
        continue;
      }
      if (tag.tag === FLOAT_TAG && scalar.format === undefined && scalar.test.test("1.5")) {
        out.push({ ...scalar, test: PY_FLOAT });
        continue;
      }
    }
    out.push(tag);
  }
  return out;
}

/**
 * Parses YAML text as PyYAML's safe loader does (YAML 1.1, {@linkcode pythonTags}).
 *
 * @throws {Error} the `yaml` package's parse error for invalid YAML.
 * @example
 * ```ts
 * import { parsePythonYaml } from "./python_yaml.ts";
 * parsePythonYaml("x: n\ny: on\n"); // { x: "n", y: true }
 * ```
 */
export function parsePythonYaml(text: string): unknown {
  return parse(text, { version: "1.1", customTags: pythonTags }) ?? null;
}
