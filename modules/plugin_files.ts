/**
 * The one way saltbus finds plug-ins on disk (execution modules in
 * `module_dirs`, proxy modules in `proxy_module_dirs`, and later engines and
 * returners): TypeScript or JavaScript files named after what they provide,
 * loaded with a dynamic `import()`.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** File endings of plug-in modules, in the order they are looked for. */
export const PLUGIN_EXTENSIONS: readonly string[] = [".ts", ".js", ".mts", ".mjs"];

const PLUGIN_FILE = /\.(?:ts|js|mts|mjs)$/;

/**
 * The plug-in name of a file name (`"net.ts"` → `"net"`), or `undefined`
 * for files that are not plug-ins: other endings, `*.d.ts`, and names
 * starting with `.` or `_`.
 *
 * @example
 * ```ts
 * import { pluginName } from "./plugin_files.ts";
 * pluginName("net.ts"); // "net"
 * pluginName("_helpers.ts"); // undefined
 * ```
 */
export function pluginName(file: string): string | undefined {
  if (!PLUGIN_FILE.test(file) || file.endsWith(".d.ts") || /^[._]/.test(file)) return undefined;
  return file.replace(PLUGIN_FILE, "");
}

/**
 * The plug-in files of `dir` as absolute paths, in name order.
 *
 * @throws the directory's read error (missing, not permitted).
 * @example
 * ```ts
 * import { listPluginFiles } from "./plugin_files.ts";
 * for (const path of await listPluginFiles("/srv/saltbus/modules")) console.log(path);
 * ```
 */
export async function listPluginFiles(dir: string): Promise<string[]> {
  const abs = resolve(dir);
  const files: string[] = [];
  for await (const item of Deno.readDir(abs)) {
    if ((item.isFile || item.isSymlink) && pluginName(item.name) !== undefined) {
      files.push(item.name);
    }
  }
  return files.sort().map((file) => resolve(abs, file));
}

/**
 * The Python files (`*.py`) of `dir`, sorted: Salt modules that saltbus does
 * not load (callers warn about them); `[]` when the directory cannot be read.
 *
 * @example
 * ```ts
 * import { listPythonFiles } from "./plugin_files.ts";
 * console.log(await listPythonFiles("/srv/salt/_modules")); // ["my_module.py"]
 * ```
 */
export async function listPythonFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const item of Deno.readDir(resolve(dir))) {
      if ((item.isFile || item.isSymlink) && item.name.endsWith(".py")) files.push(item.name);
    }
  } catch {
    return [];
  }
  return files.sort();
}

/**
 * The first file `<dir>/<name><ext>` that exists, over `dirs` in order and
 * {@linkcode PLUGIN_EXTENSIONS}; `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { findPluginFile } from "./plugin_files.ts";
 * await findPluginFile(["/srv/saltbus/proxy"], "rest_switch"); // "/srv/saltbus/proxy/rest_switch.ts"
 * ```
 */
export async function findPluginFile(
  dirs: readonly string[],
  name: string,
): Promise<string | undefined> {
  for (const dir of dirs) {
    for (const ext of PLUGIN_EXTENSIONS) {
      const path = resolve(join(dir, name + ext));
      try {
        if ((await Deno.stat(path)).isFile) return path;
      } catch {
        // not there: try the next
      }
    }
  }
  return undefined;
}

/**
 * Imports a plug-in file and resolves its exports.
 *
 * @example
 * ```ts
 * import { importPlugin } from "./plugin_files.ts";
 * const exports = await importPlugin("/srv/saltbus/modules/my_module.ts");
 * ```
 */
export async function importPlugin(path: string): Promise<Record<string, unknown>> {
  return await import(pathToFileURL(path).href);
}
