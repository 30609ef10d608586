/**
 * How the `sys` module asks the loader behind a `salt` mapping for its
 * function list and documentation, without importing the loader.
 *
 * @module
 */
import type { SaltFunctions } from "./context.ts";

/**
 * What a loader tells about itself.
 *
 * @example
 * ```ts
 * import type { LoaderIntrospection } from "./introspect.ts";
 * function count(info: LoaderIntrospection): number {
 *   return info.functions().length;
 * }
 * ```
 */
export interface LoaderIntrospection {
  /** Every function name, sorted. */
  functions(): string[];
  /** Every module name, sorted. */
  modules(): string[];
  /** The documentation of one function, `""` when it has none. */
  docOf(fun: string): string;
}

/**
 * The symbol under which a loader's `salt` mapping answers with its
 * {@linkcode LoaderIntrospection}.
 *
 * @example
 * ```ts
 * import { INTROSPECT } from "./introspect.ts";
 * console.log(INTROSPECT.description); // "saltbus.loader.introspect"
 * ```
 */
export const INTROSPECT: unique symbol = Symbol("saltbus.loader.introspect");

/**
 * The loader behind a `salt` mapping.
 *
 * @throws {TypeError} when `salt` does not come from a saltbus loader.
 * @example
 * ```ts
 * import type { ModuleContext } from "./context.ts";
 * import { introspect } from "./introspect.ts";
 * export function count(this: ModuleContext): number {
 *   return introspect(this.salt).functions().length;
 * }
 * ```
 */
export function introspect(salt: SaltFunctions): LoaderIntrospection {
  const info = (salt as unknown as Record<symbol, LoaderIntrospection | undefined>)[INTROSPECT];
  if (info === undefined) throw new TypeError("this salt mapping does not come from a loader");
  return info;
}
