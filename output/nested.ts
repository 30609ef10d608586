/**
 * Salt's default outputter, `nested` (`salt/output/nested.py`): dicts as
 * `key:` lines with the value indented 4 more, `----------` before each
 * nested dict, list items as `- item` (`|_` before a nested list or dict),
 * scalars as Python prints them (`True`, `None`, `3.14`).
 *
 * @module
 */
import { pythonNumber, pythonSplitLines, pythonStr } from "./python_repr.ts";
import { isMapping } from "../bus/mapping.ts";

/** Options of {@linkcode nested}. */
export interface NestedOptions {
  /** Base indentation in spaces (Salt's `nested_indent`); default 0. */
  indent?: number;
  /** ANSI colours as Salt's (`color: True`); default `false`. */
  color?: boolean;
  /** Non-zero: keys, separators and `|_` in red, as Salt shows a failed job (`_retcode`). */
  retcode?: number;
  /**
   * Sort keys of each mapping (Salt sorts plain dicts, keeps an OrderedDict's
   * order); default `true`.
   */
  sortKeys?: boolean;
}

interface Colors {
  lightYellow: string;
  yellow: string;
  green: string;
  cyan: string;
  red: string;
  endc: string;
}

const COLORS: Colors = {
  lightYellow: "\x1b[1;33m",
  yellow: "\x1b[33m",
  green: "\x1b[32m",
  cyan: "\x1b[36m",
  red: "\x1b[31m",
  endc: "\x1b[0m",
};
const NO_COLORS: Colors = { lightYellow: "", yellow: "", green: "", cyan: "", red: "", endc: "" };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0)! - y[i].codePointAt(0)!;
  }
  return x.length - y.length;
}

/** Shown as a mapping: a plain mapping, or a `Map` (sent as a msgpack map too). */
function isShownAsMapping(value: unknown): value is object {
  return isMapping(value) || value instanceof Map;
}

function isList(value: unknown): value is unknown[] | Set<unknown> {
  return Array.isArray(value) || value instanceof Set;
}

function entriesOf(value: object, sortKeys: boolean): [string, unknown][] {
  let entries: [unknown, unknown][];
  if (value instanceof Map) entries = [...value.entries()];
  else {
    const rec = value as Record<string, unknown>;
    entries = Object.keys(rec).map((k) => [k, rec[k]]);
  }
  if (sortKeys) {
    entries.sort(([a], [b]) => {
      if (typeof a === "number" && typeof b === "number") return a - b;
      return compareCodePoints(pythonStr(a), pythonStr(b));
    });
  }
  return entries.map(([k, v]) => [pythonStr(k), v]);
}

/**
 * Formats `value` as Salt's `nested` outputter does (without the final
 * newline that `salt-call` adds when printing). Without colour by default.
 *
 * @example
 * ```ts
 * import { nested } from "./nested.ts";
 * nested({ local: true }); // "local:\n    True"
 * nested({ local: { a: 1, b: ["x", "y"] } });
 * // "local:\n    ----------\n    a:\n        1\n    b:\n        - x\n        - y"
 * ```
 */
export function nested(value: unknown, options: NestedOptions = {}): string {
  const c = options.color === true ? COLORS : NO_COLORS;
  const failed = options.retcode !== undefined && options.retcode !== 0;
  const sortKeys = options.sortKeys !== false;
  const out: string[] = [];
  const line = (indent: number, color: string, msg: string, prefix = "", suffix = "") =>
    out.push(" ".repeat(indent) + color + prefix + msg + c.endc + suffix);

  const display = (ret: unknown, indent: number, prefix: string): void => {
    if (ret instanceof Uint8Array) {
      try {
        ret = utf8.decode(ret);
      } catch {
        return; // Salt prints nothing for bytes it cannot decode
      }
    }
    if (ret === null || ret === undefined || typeof ret === "boolean") {
      line(indent, c.lightYellow, ret === true ? "True" : ret === false ? "False" : "None", prefix);
    } else if (typeof ret === "number" || typeof ret === "bigint") {
      line(indent, c.lightYellow, pythonNumber(ret), prefix);
    } else if (typeof ret === "string") {
      let first = true;
      for (const text of pythonSplitLines(ret)) {
        // Salt's strip_colors: escape characters become "?".
        line(
          indent,
          c.green,
          text.replaceAll("\x1b", "?"),
          first ? prefix : " ".repeat(prefix.length),
        );
        first = false;
      }
    } else if (ret instanceof Date) {
      display(pythonStr(ret).slice(1, -1), indent, prefix);
    } else if (isList(ret)) {
      const color = failed ? c.red : c.green;
      for (const item of ret) {
        if (isList(item) || isShownAsMapping(item)) {
          line(indent, color, "|_");
          display(item, indent + 2, isShownAsMapping(item) ? "" : "- ");
        } else {
          display(item, indent, "- ");
        }
      }
    } else if (isShownAsMapping(ret)) {
      const color = failed ? c.red : c.cyan;
      if (indent) line(indent, color, "----------");
      for (const [key, val] of entriesOf(ret, sortKeys)) {
        line(indent, color, key, prefix, ":");
        display(val, indent + 4, "");
      }
    } else if (typeof ret === "function" || typeof ret === "symbol") {
      line(indent, c.green, String(ret), prefix);
    }
  };

  display(value, Math.max(0, Math.trunc(options.indent ?? 0)), "");
  return out.join("\n");
}
