/**
 * A short-lived cache of reaction files and of the wildcard expansions of
 * their paths: at 1k events/s every event would otherwise stat, list and
 * read the same files from disk. An edit is seen within `ttlMs` (1 s).
 *
 * @module
 */

/** How long a read or an expansion is reused, in ms. */
export const FILE_CACHE_TTL_MS = 1000;

/** The cache entries: a value and when it was made. */
const entries = new Map<string, { at: number; value: Promise<unknown> }>();
const MAX_ENTRIES = 1024;

/**
 * `load()` for `key`, reused for {@linkcode FILE_CACHE_TTL_MS}; a failure is
 * not kept.
 *
 * @example
 * ```ts
 * import { cached } from "./file_cache.ts";
 * const text = await cached("read:/srv/reactor/a.sls", () => Deno.readTextFile("/srv/reactor/a.sls"));
 * ```
 */
export function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  const now = performance.now();
  const hit = entries.get(key);
  if (hit !== undefined && now - hit.at < FILE_CACHE_TTL_MS) return hit.value as Promise<T>;
  const value = load();
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { at: now, value });
  value.catch(() => entries.delete(key));
  return value;
}
