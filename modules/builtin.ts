/**
 * The built-in execution modules, imported statically so that
 * `deno compile` includes them.
 *
 * @module
 */
import * as event from "./event.ts";
import * as grains from "./grains.ts";
import * as sys from "./sys.ts";
import * as test from "./test.ts";

/**
 * A module as the loader reads it: its name (before `__virtualname__`), the
 * URL of its source (for documentation), its exports.
 *
 * @example
 * ```ts
 * import type { ModuleSource } from "./builtin.ts";
 * const mine: ModuleSource = { name: "hello", url: undefined, exports: { hi: () => "hi" } };
 * ```
 */
export interface ModuleSource {
  /** Module name: the file name without its extension. */
  readonly name: string;
  /** Where the source is (a `file:` URL lets `sys.doc` read JSDoc), if known. */
  readonly url: string | undefined;
  /** The module's exports. */
  readonly exports: Readonly<Record<string, unknown>>;
}

/**
 * The built-in modules: `event`, `grains`, `sys`, `test`.
 *
 * @example
 * ```ts
 * import { BUILTIN_MODULES } from "./builtin.ts";
 * console.log(BUILTIN_MODULES.map((m) => m.name)); // ["event", "grains", "sys", "test"]
 * ```
 */
export const BUILTIN_MODULES: readonly ModuleSource[] = Object.freeze([
  { name: "event", url: new URL("./event.ts", import.meta.url).href, exports: event },
  { name: "grains", url: new URL("./grains.ts", import.meta.url).href, exports: grains },
  { name: "sys", url: new URL("./sys.ts", import.meta.url).href, exports: sys },
  { name: "test", url: new URL("./test.ts", import.meta.url).href, exports: test },
]);
