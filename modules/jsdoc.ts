/**
 * Function documentation read from a module's source text: the JSDoc block
 * right before `export function name`, `export async function name` or
 * `export const name =`, for `sys.doc`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * The text of a `/** … *\/` block: the delimiters and each line's leading
 * `*` removed, `@param`/`@example` lines kept as they are, outer blank lines
 * trimmed.
 *
 * @example
 * ```ts
 * import { cleanJsDoc } from "./jsdoc.ts";
 * cleanJsDoc("/**\n * Returns true.\n *\n * @example salt-call test.ping\n *\/");
 * // "Returns true.\n\n@example salt-call test.ping"
 * ```
 */
export function cleanJsDoc(block: string): string {
  const body = block.replace(/^\/\*\*/, "").replace(/\*\/$/, "");
  const lines = body.split("\n").map((line) =>
    (/^\s*\*/.test(line) ? line.replace(/^\s*\* ?/, "") : line.trimStart()).trimEnd()
  );
  while (lines.length > 0 && lines[0].trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  return lines.join("\n");
}

const DECLARATION =
  /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*export\s+(?:(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|(?:const|let|var)\s+([A-Za-z_$][\w$]*))/g;

/**
 * Every exported function's JSDoc in `source`, by function name.
 *
 * @example
 * ```ts
 * import { jsDocsOf } from "./jsdoc.ts";
 * jsDocsOf("/** Says hi. *\/\nexport function hi() {}\n");
 * // { hi: "Says hi." }
 * ```
 */
export function jsDocsOf(source: string): Record<string, string> {
  const docs: Record<string, string> = {};
  for (const m of source.matchAll(DECLARATION)) {
    const name = m[2] ?? m[3];
    Object.defineProperty(docs, name, {
      value: cleanJsDoc(`/**${m[1]}*/`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return docs;
}

/**
 * The JSDoc of the exported functions of the module at `url` (read from a
 * `file:` URL); an empty mapping when the source cannot be read, e.g. in a
 * compiled binary or for a remote module.
 *
 * @example
 * ```ts
 * import { jsDocsOfUrl } from "./jsdoc.ts";
 * const docs = jsDocsOfUrl(new URL("./test.ts", import.meta.url).href);
 * console.log(docs.ping);
 * ```
 */
export function jsDocsOfUrl(url: string | undefined): Record<string, string> {
  if (url === undefined || !url.startsWith("file:")) return {};
  try {
    return jsDocsOf(Deno.readTextFileSync(fileURLToPath(url)));
  } catch {
    return {};
  }
}
