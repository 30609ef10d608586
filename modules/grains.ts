/**
 * The built-in `grains` execution module (Salt's `salt/modules/grainsmod.py`):
 * read this host's grains.
 *
 * @module
 */
import type { ModuleContext } from "./context.ts";
import { traverse } from "../bus/traverse.ts";

/**
 * Returns all grains.
 *
 * CLI example: `saltbus call grains.items`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { id: "web1" } });
 * const grains = await loader.call("grains.items") as Record<string, unknown>;
 * console.log(grains.id); // "web1"
 * ```
 */
export function items(this: ModuleContext, sanitize = false): Record<string, unknown> {
  void sanitize;
  return structuredClone(this.grains) as Record<string, unknown>;
}

/**
 * Returns one grain; nested values with a `:`-delimited key
 * (`ip4_interfaces:eth0`); `default` (keyword) when it is not set.
 *
 * CLI example: `saltbus call grains.get os` / `saltbus call grains.get pkg:apache default=httpd`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { id: "web1" } });
 * await loader.call("grains.get", ["id"]); // "web1"
 * await loader.call("grains.get", ["nope"], { default: "n/a" }); // "n/a"
 * ```
 */
export function get(
  this: ModuleContext,
  key: string,
  default_: unknown = "",
  delimiter = ":",
  ordered = true,
): unknown {
  void ordered;
  return traverse(this.grains, String(key), default_, delimiter);
}
/** The parameter names for keyword binding: Salt's `default` is a reserved word in JavaScript. */
get.params = ["key", "default", "delimiter", "ordered"];

/**
 * Returns the named grains as `{name: value}`; keys may be `:`-delimited
 * paths; a missing grain is `default` (keyword, default `""`).
 *
 * CLI example: `saltbus call grains.item os osrelease`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { id: "web1" } });
 * await loader.call("grains.item", ["id", "nope"]); // { id: "web1", nope: "" }
 * ```
 */
export function item(
  this: ModuleContext,
  kwargs: Record<string, unknown> = {},
  ...args: unknown[]
): Record<string, unknown> {
  const default_ = Object.hasOwn(kwargs, "default") ? kwargs.default : "";
  const delimiter = typeof kwargs.delimiter === "string" ? kwargs.delimiter : ":";
  const out: Record<string, unknown> = {};
  for (const name of args) {
    Object.defineProperty(out, String(name), {
      value: traverse(this.grains, String(name), default_, delimiter),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
