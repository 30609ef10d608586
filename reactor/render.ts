/**
 * Rendering one reaction file (spec §12.5): Jinja with `tag` and `data` in
 * scope, then YAML 1.1 (the `jinja|yaml` pipeline; a first line `#!yaml`
 * skips Jinja). A file ending in `.ts`, `.js` or `.mjs` is a module whose
 * default export (or `reactions` export) is `(tag, data) => reactions`,
 * returning the same mapping the YAML would (saltbus extension). Absolute
 * paths may hold glob wildcards in their last segment.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parsePythonYaml } from "../bus/python_yaml.ts";
import { isMapping } from "../bus/mapping.ts";
import { fnmatch } from "../bus/tag_match.ts";
import { cached } from "./file_cache.ts";
import { renderJinja } from "./jinja.ts";

/** A reaction file could not be found. */
export class ReactionFileMissingError extends Error {
  /** The file reference. */
  readonly file: string;
  /** Creates the error for `file` and `tag` (Salt's message). */
  constructor(file: string, tag: string) {
    super(`Can not render SLS ${file} for tag ${tag}. File missing or not found.`);
    this.name = "ReactionFileMissingError";
    this.file = file;
  }
}

/** A reaction file failed to render (Jinja, YAML, a module, or not a mapping). */
export class ReactionRenderError extends Error {
  /** The file. */
  readonly file: string;
  /** Which stage failed. */
  readonly stage: "jinja" | "yaml" | "module" | "shape";
  /** Creates the error. */
  constructor(
    file: string,
    stage: ReactionRenderError["stage"],
    message: string,
    options?: ErrorOptions,
  ) {
    super(`Failed to render "${file}": ${message}`, options);
    this.name = "ReactionRenderError";
    this.file = file;
    this.stage = stage;
  }
}

/** The high data of one file: ID → `{<type>.<fun>: [args]}`, each with `__sls__`. */
export type HighData = Record<string, Record<string, unknown>>;

const GLOB = /[*?[]/;

/**
 * Salt's `glob.glob` for a file reference (wildcards in the last segment),
 * sorted; a plain path that does not exist gives `[]`.
 *
 * @example
 * ```ts
 * import { expandFile } from "./render.ts";
 * const files = await expandFile("/srv/reactor/*.sls");
 * ```
 */
export function expandFile(ref: string): Promise<string[]> {
  return cached(`expand:${ref}`, () => expandUncached(ref));
}

async function expandUncached(ref: string): Promise<string[]> {
  if (!GLOB.test(basename(ref))) {
    try {
      return (await Deno.stat(ref)).isFile ? [ref] : [];
    } catch {
      return [];
    }
  }
  const dir = dirname(ref);
  const pattern = basename(ref);
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && !entry.name.startsWith(".") && fnmatch(entry.name, pattern)) {
        found.push(join(dir, entry.name));
      }
    }
  } catch {
    return [];
  }
  return found.sort();
}

/**
 * Renders one reaction file with `tag` and `data`; an empty result is `{}`.
 * Every top-level ID gets `__sls__: <file>`.
 *
 * @throws {ReactionRenderError} when Jinja, YAML or the module fails, or the result is not a mapping.
 * @example
 * ```ts
 * import { renderReactionFile } from "./render.ts";
 * const high = await renderReactionFile("/srv/reactor/ping.sls", "salt/job/1/ret/web1", { id: "web1" });
 * ```
 */
export async function renderReactionFile(
  file: string,
  tag: string,
  data: unknown,
): Promise<HighData> {
  let result: unknown;
  if (/\.(ts|js|mjs)$/.test(file)) {
    result = await renderModule(file, tag, data);
  } else {
    let source: string;
    try {
      source = await cached(`read:${file}`, () => Deno.readTextFile(file));
    } catch (err) {
      throw new ReactionRenderError(file, "yaml", `cannot read it: ${messageOf(err)}`, {
        cause: err,
      });
    }
    let pipeline = ["jinja", "yaml"];
    const shebang = /^#!(.*)\n?/.exec(source);
    if (shebang) {
      pipeline = shebang[1].trim().split("|").map((s) => s.trim());
      source = source.slice(shebang[0].length);
      if (pipeline.some((r) => r !== "jinja" && r !== "yaml") || !pipeline.includes("yaml")) {
        throw new ReactionRenderError(
          file,
          "shape",
          `renderer '${shebang[1].trim()}' is not available (saltbus renders jinja|yaml, ` +
            `or TypeScript modules)`,
        );
      }
    }
    if (pipeline.includes("jinja")) {
      try {
        source = renderJinja(source, { tag, data });
      } catch (err) {
        throw new ReactionRenderError(file, "jinja", `Jinja error: ${messageOf(err)}`, {
          cause: err,
        });
      }
    }
    try {
      result = parsePythonYaml(source) ?? {};
    } catch (err) {
      throw new ReactionRenderError(
        file,
        "yaml",
        `YAML error: ${messageOf(err).split("\n")[0]}`,
        { cause: err },
      );
    }
  }
  if (!isMapping(result)) {
    throw new ReactionRenderError(
      file,
      "shape",
      `expected a mapping of ID: {type.function: [arguments]}, got ${JSON.stringify(result)}`,
    );
  }
  const high: HighData = {};
  for (const [id, body] of Object.entries(result)) {
    high[id] = isMapping(body) ? { ...body, __sls__: file } : body as Record<string, unknown>;
  }
  return high;
}

async function renderModule(file: string, tag: string, data: unknown): Promise<unknown> {
  try {
    const { mtime } = await Deno.stat(file);
    const url = `${pathToFileURL(file).href}?mtime=${mtime?.getTime() ?? 0}`;
    const module = await import(url);
    const fn = module.default ?? module.reactions;
    if (typeof fn !== "function") {
      throw new Error("the module exports no function (default or `reactions`)");
    }
    return (await fn(tag, data)) ?? {};
  } catch (err) {
    throw new ReactionRenderError(file, "module", messageOf(err), { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
