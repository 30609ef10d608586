/**
 * The built-in execution modules, imported statically so that
 * `deno compile` includes them.
 *
 * @module
 */
import * as event from "./event.ts";
import * as grains from "./grains.ts";
import * as pillar from "./pillar.ts";
import * as saltutil from "./saltutil.ts";
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
 * The built-in modules: `event`, `grains`, `pillar`, `saltutil`, `sys`, `test`.
 *
 * @example
 * ```ts
 * import { BUILTIN_MODULES } from "./builtin.ts";
 * console.log(BUILTIN_MODULES.map((m) => m.name)); // ["event", "grains", "pillar", "saltutil", "sys", "test"]
 * ```
 */
export const BUILTIN_MODULES: readonly ModuleSource[] = Object.freeze([
  { name: "event", url: new URL("./event.ts", import.meta.url).href, exports: event },
  { name: "grains", url: new URL("./grains.ts", import.meta.url).href, exports: grains },
  { name: "pillar", url: new URL("./pillar.ts", import.meta.url).href, exports: pillar },
  { name: "saltutil", url: new URL("./saltutil.ts", import.meta.url).href, exports: saltutil },
  { name: "sys", url: new URL("./sys.ts", import.meta.url).href, exports: sys },
  { name: "test", url: new URL("./test.ts", import.meta.url).href, exports: test },
]);
