/**
 * The process's limit on open file descriptors, where the system tells it
 * (`/proc/self/limits` on Linux), for defaults that must stay below it.
 *
 * @module
 */

/**
 * The soft `RLIMIT_NOFILE` of this process, or `null` when it cannot be
 * read (not Linux, or no read permission).
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./fd_limit.ts";
 * openFileLimit(); // e.g. 1024 under `ulimit -n 1024`
 * ```
 */
export function openFileLimit(): number | null {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (match === null) return null;
    return match[1] === "unlimited" ? Infinity : Number(match[1]);
  } catch {
    return null;
  }
}
