/**
 * The returners saltbus knows, by Salt's virtual name, opened from a master
 * configuration (`cachedir`, `keep_jobs_seconds`, `id`).
 *
 * @module
 */
import { ConfigError } from "../bus/errors.ts";
import { PgjsonbReturner } from "./pgjsonb.ts";
import { JetStreamReturner } from "./jetstream.ts";
import type { Returner } from "./returner.ts";
import { findCustomReturner, openCustomReturner } from "./custom.ts";
import { cacheDirOf, DEFAULT_KEEP_JOBS_SECONDS, SqliteReturner } from "./sqlite.ts";

type Opts = { node: "master" | "minion"; [option: string]: unknown };

/** The built-in returners, by Salt's virtual name. */
const BUILTIN: Readonly<Record<string, (opts: Opts) => Promise<Returner>>> = {
  sqlite: async (opts) => {
    const keep = opts.keep_jobs_seconds;
    return await SqliteReturner.open({
      cachedir: cacheDirOf(opts),
      keepJobsSeconds: typeof keep === "number" ? keep : DEFAULT_KEEP_JOBS_SECONDS,
      masterId: typeof opts.id === "string" ? opts.id : "master",
    });
  },
  pgjsonb: (opts) => PgjsonbReturner.open(opts),
  jetstream: (opts) => JetStreamReturner.open(opts),
};

/** The built-in returners' names. */
export const RETURNER_NAMES: readonly string[] = Object.freeze(Object.keys(BUILTIN));

/**
 * Opens returner `name` for a master configuration: a custom returner from
 * `returner_dirs` (see `custom.ts`) when there is one, else a built-in.
 *
 * @throws {ConfigError} for a returner saltbus does not have (naming `option`).
 * @throws {UnsafePathError} / {ReturnerError} when its store cannot be opened.
 * @example
 * ```ts
 * import { openReturner } from "./registry.ts";
 * const store = await openReturner("sqlite", { node: "master", cachedir: await Deno.makeTempDir() });
 * await store.close();
 * ```
 */
export async function openReturner(
  name: unknown,
  opts: Opts,
  option = "master_job_cache",
): Promise<Returner> {
  // Custom returners from returner_dirs come first, as Salt's loader does.
  const file = typeof name === "string" ? await findCustomReturner(name, opts) : undefined;
  if (file !== undefined) return await openCustomReturner(name as string, file, opts, option);
  if (typeof name !== "string" || !Object.hasOwn(BUILTIN, name)) {
    throw new ConfigError(
      `${option}: returner ${JSON.stringify(name)} is not available; ` +
        `saltbus has ${RETURNER_NAMES.join(", ")} and the returners in returner_dirs`,
    );
  }
  return await BUILTIN[name](opts);
}
