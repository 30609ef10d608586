/**
 * JSON text exactly as Python's `json.dumps(value, ensure_ascii=False, …)`
 * writes it, for the outputs Salt users parse: `state.event` lines (spec §5
 * step 4) and the SSE stream (spec §6.1).
 *
 * @module
 */

import { saltStamp } from "../bus/stamp.ts";

/**
 * How to lay out the JSON, as the arguments of Python's `json.dumps`.
 *
 * @example
 * ```ts
 * import type { PythonJsonOptions } from "./python_json.ts";
 * const pretty: PythonJsonOptions = { sortKeys: true, indent: 4 };
 * ```
 */
export interface PythonJsonOptions {
  /** Sort object keys by code point (`sort_keys=True`); default `false`: insertion order. */
  sortKeys?: boolean;
  /**
   * Spaces per nesting level (`indent=N`): one item per line. Default
   * `undefined`: everything on one line (`indent=None`).
   */
  indent?: number;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Python's exponent form: the shortest digits, `e`, a sign, at least two digits. */
function exponentForm(n: number): string {
  const s = n.toExponential();
  const e = s.indexOf("e");
  const digits = s.slice(e + 2);
  return s.slice(0, e + 2) + (digits.length < 2 ? "0" + digits : digits);
}

/**
 * Python's text of a number. JavaScript cannot tell `1.0` from `1`, so an
 * integer-valued number below 1e16 is written as an int; from 1e16 on it is
 * written as Python writes a float (`1e+16`), since large ints arrive as
 * bigints.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./python_json.ts";
 * formatNumber(0.00001); // "1e-05"
 * ```
 */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) {
    if (n === 0 && 1 / n < 0) return "-0.0"; // only a Python float can be -0
    if (n < 1e16 && n > -1e16) return "" + n;
    return exponentForm(n);
  }
  if (n !== n) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  // Python switches to exponent form below 1e-4 (JavaScript only below 1e-6).
  if (n < 1e-4 && n > -1e-4) return exponentForm(n);
  return "" + n;
}

/** A JSON string literal; `JSON.stringify` escapes exactly like Python with `ensure_ascii=False`. */
function formatString(s: string): string {
  return JSON.stringify(s);
}

/** The text of a key, converted like Python's `json` does for non-str keys. */
function keyText(key: unknown): string {
  switch (typeof key) {
    case "string":
      return key;
    case "number":
      return formatNumber(key);
    case "bigint":
      return key.toString();
    case "boolean":
      return key ? "true" : "false";
    case "undefined":
      return "null";
  }
  if (key === null) return "null";
  if (key instanceof Uint8Array) return utf8.decode(key);
  throw new TypeError(
    `keys must be str, int, float, bool or None, not ${describe(key)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return value.constructor?.name ?? "object";
}

/** Orders strings by code point, like Python's `str` comparison. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (astral code points) must sort after U+E000..U+FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

function compareEntries(a: [string, unknown], b: [string, unknown]): number {
  return compareCodePoints(a[0], b[0]);
}

/**
 * Serialises a value as Python's `json.dumps(value, ensure_ascii=False,
 * sort_keys=options.sortKeys, indent=options.indent)` would.
 *
 * - Compact form (no `indent`): separators `", "` and `": "`. With `indent`:
 *   one item per line, `","` at line ends (no trailing spaces), `": "` after
 *   keys; empty containers stay `{}` and `[]`.
 * - Strings: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other characters
 *   below U+0020 as `\u00XX`; everything else literal, non-ASCII and U+2028
 *   included. (A lone surrogate, which Python could not print, is written as
 *   a `\udXXX` escape.)
 * - Numbers: as Python's `repr` (`1e-05`, `-0.0`, `1e+16`), `NaN`,
 *   `Infinity`, `-Infinity`; integer-valued numbers below 1e16 as ints
 *   (JavaScript cannot tell `1.0` from `1`); a bigint in full digits.
 *   `null` and `undefined`: `null`.
 * - Bytes (`Uint8Array`, `ArrayBuffer`): decoded as UTF-8 into a string,
 *   invalid sequences replaced by U+FFFD, so binary payloads print instead of
 *   failing (Salt issue #68411).
 * - `Date`: a string like Python's `isoformat()`, `YYYY-MM-DDTHH:MM:SS.ffffff`
 *   in UTC (the fraction omitted when zero).
 * - `Map`: an object, keys converted like Python's (`1` → `"1"`, `true` →
 *   `"true"`, `null` → `"null"`). `Set`, other typed arrays: arrays.
 * - Any other object (class instances, msgpack `ExtData`): its own
 *   enumerable properties, in insertion order (JavaScript puts
 *   integer-like keys first).
 * - `sortKeys` orders by code point (Python's order), after key conversion.
 *
 * @throws {TypeError} on a cycle, a function or symbol value, or a Map key
 * that Python could not use.
 *
 * @example
 * ```ts
 * import { pythonJsonDumps } from "./python_json.ts";
 * const data = { a: 1, _stamp: "2024-05-01T12:34:56.789012" };
 * console.log(pythonJsonDumps(data));
 * // {"a": 1, "_stamp": "2024-05-01T12:34:56.789012"}
 * console.log(pythonJsonDumps(data, { sortKeys: true, indent: 4 }));
 * // {
 * //     "_stamp": "2024-05-01T12:34:56.789012",
 * //     "a": 1
 * // }
 * ```
 */
export function pythonJsonDumps(value: unknown, options: PythonJsonOptions = {}): string {
  const sortKeys = options.sortKeys === true;
  const unit = options.indent === undefined || options.indent === null
    ? null
    : " ".repeat(Math.max(0, Math.trunc(options.indent)));
  const active = new Set<object>();
  // Separators per depth: compact ", " or ",\n" + indentation.
  const itemSeparators: string[] = [];
  const openings: string[] = [];
  const closings: string[] = [];

  const layout = (depth: number): void => {
    for (let d = itemSeparators.length; d <= depth; d++) {
      if (unit === null) {
        itemSeparators.push(", ");
        openings.push("");
        closings.push("");
      } else {
        const inner = "\n" + unit.repeat(d + 1);
        itemSeparators.push("," + inner);
        openings.push(inner);
        closings.push("\n" + unit.repeat(d));
      }
    }
  };

  const enter = (obj: object): void => {
    if (active.has(obj)) throw new TypeError("Circular reference detected");
    active.add(obj);
  };

  const encodeArray = (items: ArrayLike<unknown>, depth: number): string => {
    const n = items.length;
    if (n === 0) return "[]";
    layout(depth);
    const sep = itemSeparators[depth];
    let out = "[" + openings[depth] + encode(items[0], depth + 1);
    for (let i = 1; i < n; i++) out += sep + encode(items[i], depth + 1);
    return out + closings[depth] + "]";
  };

  const encodeEntries = (entries: [string, unknown][], depth: number): string => {
    const n = entries.length;
    if (n === 0) return "{}";
    if (sortKeys) entries.sort(compareEntries);
    layout(depth);
    const sep = itemSeparators[depth];
    let out = "{" + openings[depth];
    for (let i = 0; i < n; i++) {
      const [k, v] = entries[i];
      if (i > 0) out += sep;
      out += formatString(k) + ": " + encode(v, depth + 1);
    }
    return out + closings[depth] + "}";
  };

  const encodeObject = (obj: Record<string, unknown>, depth: number): string => {
    const keys = Object.keys(obj);
    const n = keys.length;
    if (n === 0) return "{}";
    if (sortKeys) {
      const entries: [string, unknown][] = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = [keys[i], obj[keys[i]]];
      return encodeEntries(entries, depth);
    }
    layout(depth);
    const sep = itemSeparators[depth];
    let out = "{" + openings[depth] + formatString(keys[0]) + ": " +
      encode(obj[keys[0]], depth + 1);
    for (let i = 1; i < n; i++) {
      out += sep + formatString(keys[i]) + ": " + encode(obj[keys[i]], depth + 1);
    }
    return out + closings[depth] + "}";
  };

  const encode = (v: unknown, depth: number): string => {
    switch (typeof v) {
      case "string":
        return formatString(v);
      case "number":
        return formatNumber(v);
      case "boolean":
        return v ? "true" : "false";
      case "undefined":
        return "null";
      case "bigint":
        return v.toString();
      case "function":
      case "symbol":
        throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
    }
    if (v === null) return "null";
    const obj = v as object;
    if (obj instanceof Uint8Array) return formatString(utf8.decode(obj));
    if (obj instanceof ArrayBuffer) return formatString(utf8.decode(new Uint8Array(obj)));
    if (obj instanceof Date) {
      const ms = obj.getTime();
      return Number.isNaN(ms) ? "null" : formatString(saltStamp(ms * 1000));
    }
    enter(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = encodeArray(obj, depth);
    } else if (obj instanceof Map) {
      const entries: [string, unknown][] = [];
      for (const [k, val] of obj) entries.push([keyText(k), val]);
      out = encodeEntries(entries, depth);
    } else if (obj instanceof Set) {
      out = encodeArray([...obj], depth);
    } else if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      out = encodeArray(obj as unknown as ArrayLike<unknown>, depth);
    } else {
      out = encodeObject(obj as Record<string, unknown>, depth);
    }
    active.delete(obj);
    return out;
  };

  return encode(value, 0);
}
