/**
 * Salt's `traverse_dict_and_list`: nested lookups with a delimited key.
 *
 * @module
 */
import { isMapping } from "./mapping.ts";

/**
 * Looks up a nested value by a delimited key, as Salt's
 * `traverse_dict_and_list`: `"a:b:0"` walks mappings by key and lists by
 * index (or into the first mapping of a list that has the key); `default_`
 * when the path does not exist.
 *
 * @example
 * ```ts
 * import { traverse } from "./traverse.ts";
 * traverse({ ip4_interfaces: { lo: ["127.0.0.1"] } }, "ip4_interfaces:lo:0"); // "127.0.0.1"
 * traverse({ a: 1 }, "b", "none"); // "none"
 * ```
 */
export function traverse(
  data: unknown,
  key: string,
  default_: unknown = undefined,
  delimiter = ":",
): unknown {
  let ptr: unknown = data;
  for (const part of String(key).split(delimiter)) {
    if (Array.isArray(ptr)) {
      const list: unknown[] = ptr;
      const isIndex = /^-?\d+$/.test(part.trim());
      let found = false;
      for (const item of list) {
        if (isMapping(item) && Object.hasOwn(item, part)) {
          ptr = item[part];
          found = true;
          break;
        }
      }
      if (found) continue;
      if (!isIndex) return default_;
      let idx = Number(part.trim());
      if (idx < 0) idx += list.length;
      if (idx < 0 || idx >= list.length) return default_;
      ptr = list[idx];
    } else if (isMapping(ptr)) {
      if (!Object.hasOwn(ptr, part)) return default_;
      ptr = ptr[part];
    } else {
      return default_;
    }
  }
  return ptr;
}
