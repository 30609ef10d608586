/**
 * Custom returners from `returner_dirs` (spec §14.3): a TypeScript or
 * JavaScript file `<name>.ts` (or Salt's `<name>_return.ts`, also `.js`,
 * `.mts`, `.mjs`) in one of the directories provides returner `<name>`.
 *
 * The module either exports a factory
 *
 * ```ts
 * import type { Returner } from "./returner.ts";
 * export async function open(opts: Record<string, unknown>): Promise<Partial<Returner>> {
 *   return { returner: async (ret) => console.log(opts.id, ret.jid) };
 * }
 * ```
 *
 * called once per process with the node's configuration (Salt's option
 * names), or exports the contract functions themselves (`returner`,
 * `event_return`, `save_load`, `get_load`, `get_jid`, `get_jids`,
 * `prep_jid`, `clean_old_jobs`, `close`), each optional. A function the
 * module lacks fails with `returner <name> has no <function>` when it is
 * used (and at start for what `event_return` and `master_job_cache` need:
 * `event_return`; `save_load`, `returner`, `get_load`, `get_jid`,
 * `get_jids`); `prep_jid` defaults to the passed jid (or a new one),
 * `clean_old_jobs` to nothing removed and `close` to nothing.
 *
 * @module
 */
import { ConfigError } from "../bus/errors.ts";
import { genJid } from "../bus/jid.ts";
import { findPluginFile } from "../modules/plugin_files.ts";
import { pathToFileURL } from "node:url";
import { type Returner, ReturnerError } from "./returner.ts";

type Opts = { node: "master" | "minion"; [option: string]: unknown };

/** The contract functions a custom module may provide. */
const FUNCTIONS = [
  "returner",
  "event_return",
  "save_load",
  "get_load",
  "get_jid",
  "get_jids",
  "prep_jid",
  "clean_old_jobs",
  "close",
] as const;

/** What a returner must provide for each master option (checked when it opens). */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  event_return: ["event_return"],
  master_job_cache: ["save_load", "returner", "get_load", "get_jid", "get_jids"],
};

/**
 * The `returner_dirs` option as a list of directories (a single string is
 * one directory).
 *
 * @throws {ConfigError} naming `returner_dirs` when it is not a list of strings.
 * @example
 * ```ts
 * import { returnerDirs } from "./custom.ts";
 * returnerDirs({ returner_dirs: "/srv/returners" }); // ["/srv/returners"]
 * ```
 */
export function returnerDirs(opts: Record<string, unknown>): string[] {
  const dirs = opts.returner_dirs;
  if (dirs === undefined || dirs === null) return [];
  if (typeof dirs === "string") return dirs === "" ? [] : [dirs];
  if (!Array.isArray(dirs) || dirs.some((d) => typeof d !== "string")) {
    throw new ConfigError("returner_dirs: must be a list of directories");
  }
  return dirs as string[];
}

/**
 * The file providing custom returner `name` in `returner_dirs`
 * (`<name>.ts`, then `<name>_return.ts`, …), or `undefined`.
 *
 * @example
 * ```ts
 * import { findCustomReturner } from "./custom.ts";
 * await findCustomReturner("jsonl", { returner_dirs: ["/srv/returners"] }); // "/srv/returners/jsonl.ts"
 * ```
 */
export async function findCustomReturner(
  name: string,
  opts: Record<string, unknown>,
): Promise<string | undefined> {
  const dirs = returnerDirs(opts);
  if (dirs.length === 0 || !/^[\w-]+$/.test(name)) return undefined;
  return await findPluginFile(dirs, name) ?? await findPluginFile(dirs, `${name}_return`);
}

/**
 * Loads custom returner `name` from `file` and opens it for `opts`.
 *
 * @throws {ConfigError} naming `option` and `file` when the module fails to load or open, or
 *   lacks a function `option` needs.
 * @example
 * ```ts
 * import { openCustomReturner } from "./custom.ts";
 * const store = await openCustomReturner("jsonl", "/srv/returners/jsonl.ts", { node: "minion" }, "--return");
 * await store.returner({ id: "web1", jid: "20240501123456789012", return: true });
 * await store.close();
 * ```
 */
export async function openCustomReturner(
  name: string,
  file: string,
  opts: Opts,
  option: string,
): Promise<Returner> {
  let parts: Record<string, unknown>;
  try {
    const mod = await import(pathToFileURL(file).href) as Record<string, unknown>;
    if (typeof mod.open === "function") {
      const opened = await (mod.open as (opts: Opts) => unknown)(opts);
      if (opened === null || typeof opened !== "object") {
        throw new Error("open(opts) must resolve an object of returner functions");
      }
      parts = opened as Record<string, unknown>;
    } else {
      parts = mod;
    }
    if (!FUNCTIONS.some((f) => typeof parts[f] === "function")) {
      throw new Error(`it exports none of open, ${FUNCTIONS.join(", ")}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `${option}: custom returner '${name}' (returner_dirs) failed to load from ${file}: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
  }
  const lacking = (REQUIRED[option] ?? []).filter((f) => typeof parts[f] !== "function");
  if (lacking.length > 0) {
    throw new ConfigError(
      `${option}: custom returner '${name}' (returner_dirs, ${file}) has no ` +
        `${lacking.join(", ")}: ${option} needs ${REQUIRED[option].join(", ")}`,
    );
  }
  return customReturner(name, parts);
}

/** The Returner over a module's functions; missing ones throw when used. */
function customReturner(name: string, parts: Record<string, unknown>): Returner {
  const fn = (f: string) => {
    const value = parts[f];
    return typeof value === "function" ? value.bind(parts) : undefined;
  };
  const required = (f: string) => {
    const value = fn(f);
    return async (...args: unknown[]) => {
      if (value === undefined) throw new ReturnerError(name, `has no ${f}`);
      return await value(...args);
    };
  };
  const prep = fn("prep_jid");
  const clean = fn("clean_old_jobs");
  const close = fn("close");
  let closed: Promise<void> | null = null;
  return {
    name,
    returner: required("returner"),
    event_return: required("event_return"),
    save_load: required("save_load"),
    get_load: required("get_load"),
    get_jid: required("get_jid"),
    get_jids: required("get_jids"),
    prep_jid: (nocache, passed) => prep ? prep(nocache, passed) : passed ?? genJid(),
    clean_old_jobs: async () => clean ? Number(await clean()) || 0 : 0,
    close: () => closed ??= (async () => void await close?.())(),
  } as Returner;
}
