/**
 * The built-in `sys` execution module (Salt's `salt/modules/sysmod.py`):
 * list the loaded functions and modules and show their documentation.
 *
 * @module
 */
import { fnmatch } from "../bus/tag_match.ts";
import type { ModuleContext } from "./context.ts";
import { introspect } from "./introspect.ts";
import { selectFunctions } from "./select_functions.ts";

/**
 * Lists the loaded functions, sorted. With arguments, only those of the
 * named modules (`sys` matches `sys.*` but not `sysctl.*`), or those matching
 * a glob or a dotted name (`sys.list_*`, `test.ping`).
 *
 * CLI example: `saltbus call sys.list_functions` / `saltbus call sys.list_functions sys test`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("sys.list_functions", ["test"]);
 * // ["test.arg", "test.echo", "test.ping", "test.sleep", "test.version"]
 * ```
 */
export function list_functions(
  this: ModuleContext,
  kwargs: Record<string, unknown> = {},
  ...modules: unknown[]
): string[] {
  void kwargs; // Salt takes **kwargs so that stray keywords are ignored
  const all = introspect(this.salt).functions();
  if (modules.length === 0) return all;
  const names = new Set<string>();
  for (const raw of modules) {
    const module = String(raw);
    if (module.includes("*") || module.includes(".")) {
      for (const fun of all) if (fnmatch(fun, module)) names.add(fun);
    } else {
      const prefix = module + ".";
      for (const fun of all) if (fun.startsWith(prefix)) names.add(fun);
    }
  }
  return [...names].sort();
}

/**
 * Lists the loaded modules, sorted; with arguments, only those named or
 * matching a glob.
 *
 * CLI example: `saltbus call sys.list_modules` / `saltbus call sys.list_modules 'gr*'`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * await loader.call("sys.list_modules"); // ["event", "grains", "sys", "test", …]
 * ```
 */
export function list_modules(this: ModuleContext, ...modules: unknown[]): string[] {
  const info = introspect(this.salt);
  if (modules.length === 0) return info.modules();
  const found = new Set<string>();
  for (const raw of modules) {
    const module = String(raw);
    if (module.includes("*")) {
      for (const fun of info.functions()) {
        if (fnmatch(fun, module)) found.add(fun.split(".")[0]);
      }
    } else if (info.modules().includes(module)) {
      found.add(module);
    }
  }
  return [...found].sort();
}

/**
 * Returns the documentation of the loaded functions as `{"mod.fun": text}`:
 * all of them, or those of the named modules, functions or globs. The text
 * comes from the function's `__doc__` property, the module's `__doc__`
 * mapping, or the JSDoc block before the function in the module's source.
 *
 * CLI example: `saltbus call sys.doc test.ping` / `saltbus call sys.doc test`
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: {} });
 * const docs = await loader.call("sys.doc", ["test.ping"]) as Record<string, string>;
 * console.log(docs["test.ping"]);
 * ```
 */
export function doc(this: ModuleContext, ...names: unknown[]): Record<string, string> {
  const info = introspect(this.salt);
  const out: Record<string, string> = {};
  for (const fun of selectFunctions(info.functions(), names.map(String))) {
    out[fun] = info.docOf(fun);
  }
  return out;
}
