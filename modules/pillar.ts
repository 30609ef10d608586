/**
 * The built-in `pillar` execution module (Salt's `salt/modules/pillar.py`).
 * saltbus has no pillar compiler or `ext_pillar`: a minion's pillar is the
 * `pillar:` mapping of its own config (empty without one).
 *
 * @module
 */
import { traverse } from "../bus/traverse.ts";
import type { ModuleContext } from "./context.ts";

/**
 * Returns the whole pillar.
 *
 * CLI example: `saltbus '*' pillar.items`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { pillar: { app: "shop" } } });
 * await loader.call("pillar.items"); // { app: "shop" }
 * ```
 */
export function items(
  this: ModuleContext,
  kwargs: Record<string, unknown> = {},
  ...args: unknown[]
) {
  void kwargs; // pillar, pillarenv, saltenv: there is only the static pillar
  void args;
  return structuredClone(this.pillar) as Record<string, unknown>;
}

/**
 * Returns one pillar value; nested values with a `:`-delimited key; `default`
 * (keyword, default `""`) when it is not set.
 *
 * CLI example: `saltbus '*' pillar.get pkg:apache default=httpd`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { pillar: { pkg: { apache: "apache2" } } } });
 * await loader.call("pillar.get", ["pkg:apache"]); // "apache2"
 * ```
 */
export function get(
  this: ModuleContext,
  key: string,
  default_: unknown = "",
  merge = false,
  merge_nested_lists = null,
  delimiter = ":",
): unknown {
  void merge;
  void merge_nested_lists;
  return traverse(this.pillar, String(key), default_, delimiter);
}
/** The parameter names for keyword binding: Salt's `default` is a reserved word in JavaScript. */
get.params = ["key", "default", "merge", "merge_nested_lists", "delimiter"];

/**
 * Returns the named pillar values as `{name: value}`; a missing one is
 * `default` (keyword, default `""`).
 *
 * CLI example: `saltbus '*' pillar.item app db:host`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { pillar: { app: "shop" } } });
 * await loader.call("pillar.item", ["app", "nope"]); // { app: "shop", nope: "" }
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
      value: traverse(this.pillar, String(name), default_, delimiter),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
