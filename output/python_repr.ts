/**
 * Python's `repr()` and `str()` of JSON-like values, for the outputters
 * that print what Python would (`nested`, `txt`): `True`, `None`, `'text'`,
 * `{'a': [1, 2.5]}`.
 *
 * @module
 */
import { saltStamp } from "../bus/stamp.ts";

function exponentForm(n: number): string {
  const s = n.toExponential();
  const e = s.indexOf("e");
  const digits = s.slice(e + 2);
  return s.slice(0, e + 2) + (digits.length < 2 ? "0" + digits : digits);
}

/**
 * Python's `repr()` of a number. JavaScript cannot tell `1.0` from `1`, so
 * integer-valued numbers below 1e16 print as ints; others as Python prints
 * a float (`0.1`, `1e-05`, `1e+16`, `nan`, `inf`). A bigint prints in full.
 *
 * @example
 * ```ts
 * import { pythonNumber } from "./python_repr.ts";
 * pythonNumber(3); // "3"
 * pythonNumber(0.00001); // "1e-05"
 * pythonNumber(Infinity); // "inf"
 * ```
 */
export function pythonNumber(n: number | bigint): string {
  if (typeof n === "bigint") return n.toString();
  if (n !== n) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Number.isInteger(n)) {
    if (n === 0 && 1 / n < 0) return "-0.0";
    if (n < 1e16 && n > -1e16) return "" + n;
    return exponentForm(n);
  }
  if (n < 1e-4 && n > -1e-4) return exponentForm(n);
  return "" + n;
}

const NOT_PRINTABLE = /[\p{C}\p{Z}]/u;

/**
 * Python's `repr()` of a string: single quotes unless the text holds a
 * single quote and no double quote; `\\`, `\n`, `\r`, `\t` and
 * non-printable characters escaped (`\x00`, `\u2028`, `\U0001f000`).
 *
 * @example
 * ```ts
 * import { pythonStringRepr } from "./python_repr.ts";
 * pythonStringRepr("it's"); // "\"it's\""
 * pythonStringRepr("a\nb"); // "'a\\nb'"
 * ```
 */
export function pythonStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + quote;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NOT_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x100) out += "\\x" + cp.toString(16).padStart(2, "0");
      else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
      else out += "\\U" + cp.toString(16).padStart(8, "0");
    } else out += ch;
  }
  return out + quote;
}

function bytesRepr(bytes: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const b of bytes) {
    if (b === 0x27) hasSingle = true;
    if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = "b" + quote;
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (String.fromCharCode(b) === quote) out += "\\" + quote;
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/**
 * Python's `repr()` of a JSON-like value: `None`, `True`, `False`, numbers,
 * strings in quotes, lists `[…]`, dicts `{'k': v}` in insertion order,
 * `Map` as a dict, `Set` as a set, `Uint8Array` as `b'…'`, `Date` as its
 * ISO string (quoted), other objects by their own enumerable properties.
 *
 * @example
 * ```ts
 * import { pythonRepr } from "./python_repr.ts";
 * pythonRepr({ a: [1, true, null], b: "x" }); // "{'a': [1, True, None], 'b': 'x'}"
 * ```
 */
export function pythonRepr(value: unknown): string {
  const active = new Set<object>();
  const repr = (v: unknown): string => {
    switch (typeof v) {
      case "string":
        return pythonStringRepr(v);
      case "number":
      case "bigint":
        return pythonNumber(v);
      case "boolean":
        return v ? "True" : "False";
      case "undefined":
        return "None";
      case "function":
        return `<function ${v.name || "<lambda>"}>`;
      case "symbol":
        return pythonStringRepr(v.toString());
    }
    if (v === null) return "None";
    const obj = v as object;
    if (obj instanceof Uint8Array) return bytesRepr(obj);
    if (obj instanceof Date) {
      const ms = obj.getTime();
      return Number.isNaN(ms) ? "None" : pythonStringRepr(saltStamp(ms * 1000));
    }
    if (active.has(obj)) return Array.isArray(obj) ? "[...]" : "{...}";
    active.add(obj);
    let out: string;
    if (Array.isArray(obj)) out = "[" + obj.map(repr).join(", ") + "]";
    else if (obj instanceof Set) {
      out = obj.size === 0 ? "set()" : "{" + [...obj].map(repr).join(", ") + "}";
    } else if (obj instanceof Map) {
      out = "{" + [...obj].map(([k, val]) => repr(k) + ": " + repr(val)).join(", ") + "}";
    } else {
      const rec = obj as Record<string, unknown>;
      out = "{" + Object.keys(rec).map((k) =>
        pythonStringRepr(k) + ": " + repr(rec[k])
      ).join(", ") +
        "}";
    }
    active.delete(obj);
    return out;
  };
  return repr(value);
}

/**
 * Python's `str()`: a string as it is, anything else as {@linkcode pythonRepr}.
 *
 * @example
 * ```ts
 * import { pythonStr } from "./python_repr.ts";
 * pythonStr("text"); // "text"
 * pythonStr(true); // "True"
 * ```
 */
export function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

/**
 * Python's `str.splitlines()`: splits on `\n`, `\r\n`, `\r`, `\v`, `\f`,
 * `\x1c`–`\x1e`, `\x85`, U+2028 and U+2029, without a final empty line
 * (`""` gives `[]`).
 *
 * @example
 * ```ts
 * import { pythonSplitLines } from "./python_repr.ts";
 * pythonSplitLines("a\r\nb\n"); // ["a", "b"]
 * pythonSplitLines(""); // []
 * ```
 */
export function pythonSplitLines(s: string): string[] {
  // deno-lint-ignore no-control-regex
  const lines = s.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
