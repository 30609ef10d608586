/**
 * The one test for "a mapping" (Salt's dict) across saltbus: a plain
 * object as msgpack maps and YAML mappings decode to. Arrays, bytes
 * (`Uint8Array` and other views), dates, sets and maps are not.
 *
 * @module
 */

/**
 * True for a plain mapping: a non-null object that is not an array, a byte
 * array or other `ArrayBuffer` view, a `Date`, a `Set` or a `Map`.
 *
 * @example
 * ```ts
 * import { isMapping } from "./mapping.ts";
 * isMapping({ a: 1 }); // true
 * isMapping(new Uint8Array(2)); // false
 * isMapping([1]); // false
 * ```
 */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) && !(value instanceof Date) && !(value instanceof Set) &&
    !(value instanceof Map);
}
