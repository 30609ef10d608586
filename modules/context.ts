/**
 * What every execution function sees as `this`: Salt's `__opts__`,
 * `__grains__`, `__pillar__` and `__salt__`, a logger, its own name, and the
 * loader's shared resources.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import type { NodeServices } from "../link/node_services.ts";

/**
 * An execution function as the loader exposes it in `salt`: any arguments,
 * a trailing `kwargs({...})` (or `{..., __kwarg__: true}`) object for keyword
 * arguments; it may return a Promise.
 *
 * @example
 * ```ts
 * import type { SaltFunction } from "./context.ts";
 * const ping: SaltFunction = () => true;
 * ```
 */
export type SaltFunction = (...args: unknown[]) => unknown;

/**
 * Salt's `__salt__`: every loaded execution function by `"<module>.<function>"`.
 * Reading a name that is not loaded throws `CommandNotFoundError`
 * (`'foo.bar' is not available.`); `"event.send" in salt` tells whether it is.
 *
 * @example
 * ```ts
 * import type { SaltFunctions } from "./context.ts";
 * async function notify(salt: SaltFunctions) {
 *   if ("event.send" in salt) await salt["event.send"]("myco/done", { ok: true });
 * }
 * ```
 */
export type SaltFunctions = Readonly<Record<string, SaltFunction>>;

/**
 * Resources shared by every function of one loader, created on first use and
 * disposed (each `[Symbol.asyncDispose]()` awaited) when the loader closes:
 * for example one event-bus client kept open across calls.
 *
 * @example
 * ```ts
 * import type { LoaderResources } from "./context.ts";
 * class Counter implements AsyncDisposable {
 *   n = 0;
 *   async [Symbol.asyncDispose]() {}
 * }
 * function count(resources: LoaderResources): number {
 *   return ++resources.get("myco.counter", () => new Counter()).n;
 * }
 * ```
 */
export interface LoaderResources {
  /**
   * The resource stored under `key`, created with `create()` the first time.
   * Throws `LoaderClosedError` once the loader is closed.
   */
  get<T extends AsyncDisposable>(key: string, create: () => T): T;
}

/**
 * The `this` of an execution function (Salt's dunder dictionaries).
 *
 * @example
 * ```ts
 * import type { ModuleContext } from "./context.ts";
 * // <module_dirs>/my_custom_module.ts
 * export function do_something(this: ModuleContext, what = "something") {
 *   this.log.info(`${this.fun} on ${this.grains.id}`);
 *   return this.salt["event.send"]("myco/my_custom_module/finished", {
 *     finished: true,
 *     message: `The ${what} is finished!`,
 *   });
 * }
 * ```
 */
export interface ModuleContext {
  /** Salt's `__opts__`: the resolved minion configuration (plus e.g. `__cli`). */
  readonly opts: Readonly<Record<string, unknown>>;
  /** Salt's `__grains__`: core grains of this host, then static `grains:` from the config. */
  readonly grains: Readonly<Record<string, unknown>>;
  /** Salt's `__pillar__`: the static `pillar:` mapping from the config. */
  readonly pillar: Readonly<Record<string, unknown>>;
  /** Salt's `__salt__`: every execution function, e.g. `this.salt["test.ping"]()`. */
  readonly salt: SaltFunctions;
  /** The loader's logger. */
  readonly log: Logger;
  /** How the function reaches buses and the master (never open sockets yourself). */
  readonly services: NodeServices;
  /** The name of the function being called, e.g. `"event.send"`. */
  readonly fun: string;
  /** Resources shared across calls, closed with the loader. */
  readonly resources: LoaderResources;
}
