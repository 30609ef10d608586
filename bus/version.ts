/**
 * The saltbus version, as a constant: `deno.json` cannot be read at run time
 * from a compiled binary. Keep it equal to `version` in `deno.json`.
 *
 * @module
 */

/**
 * The saltbus version string (what `test.version` returns).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`saltbus ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
