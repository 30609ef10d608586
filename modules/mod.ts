/**
 * Execution modules in Salt's `__salt__` style: the loader, the context a
 * function runs with (`this`), keyword-argument markers, and `Caller`.
 *
 * ```ts
 * import { loadModules } from "@saltbus/saltbus/modules";
 *
 * await using loader = await loadModules({ opts: { id: "web1" } });
 * console.log(await loader.salt["test.ping"]()); // true
 * ```
 *
 * @module
 */
export { Caller, type CallerOptions } from "./caller.ts";
export type { ModuleSource } from "./builtin.ts";
export type { LoaderResources, ModuleContext, SaltFunction, SaltFunctions } from "./context.ts";
export { ArgumentError, CommandNotFoundError, LoaderClosedError } from "./errors.ts";
export { Kwargs, kwargs } from "./kwargs.ts";
export { Loader, type LoaderOptions, loadModules, type ModuleLoadError } from "./loader.ts";
export type { NodeServices } from "../link/node_services.ts";
