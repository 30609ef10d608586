/**
 * Finds the module of each configured engine: a file `<module>.ts`
 * (`.js`, `.mjs`) in one of `engines_dirs` (first match wins; a custom
 * engine replaces a built-in of the same name), else a built-in.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../bus/errors.ts";
import type { EngineSpec } from "./config.ts";

/** The names of the built-in engines (see `builtin.ts`). */
export const BUILTIN_ENGINE_NAMES: readonly string[] = Object.freeze([
  "http_logstash",
  "reactor",
  "script",
  "test",
  "webhook",
]);

const EXTENSIONS = [".ts", ".js", ".mjs"];

/** An engine and where its module is. */
export interface ResolvedEngine extends EngineSpec {
  /** The file URL of a custom engine, `null` for a built-in. */
  readonly url: string | null;
}

/**
 * Resolves each engine's module.
 *
 * @throws {ConfigError} naming `engines` for a module that is neither
 *   a file in `engines_dirs` nor a built-in.
 * @example
 * ```ts
 * import { resolveEngines } from "./resolve_engine.ts";
 * const [e] = await resolveEngines([{ name: "test", module: "test", options: {} }], []);
 * console.log(e.url); // null (built-in)
 * ```
 */
export async function resolveEngines(
  specs: readonly EngineSpec[],
  dirs: readonly string[],
  where?: string,
): Promise<ResolvedEngine[]> {
  const out: ResolvedEngine[] = [];
  for (const spec of specs) {
    let url: string | null = null;
    if (/^[\w.-]+$/.test(spec.module)) {
      search: for (const dir of dirs) {
        for (const ext of EXTENSIONS) {
          const path = resolve(join(dir, spec.module + ext));
          try {
            if ((await Deno.stat(path)).isFile) {
              url = pathToFileURL(path).href;
              break search;
            }
          } catch {
            // not there
          }
        }
      }
    }
    if (url === null && !BUILTIN_ENGINE_NAMES.includes(spec.module)) {
      const at = where === undefined ? "" : ` in ${where}`;
      const looked = dirs.length > 0 ? ` nor a file <module>.ts/.js in ${dirs.join(", ")}` : "";
      throw new ConfigError(
        `engines${at}: unknown engine '${spec.module}'` +
          (spec.module !== spec.name ? ` (engine_module of '${spec.name}')` : "") +
          `: not a built-in (${BUILTIN_ENGINE_NAMES.join(", ")})${looked}; ` +
          `set engines_dirs to the directory of custom engines`,
      );
    }
    out.push({ ...spec, url });
  }
  return out;
}
