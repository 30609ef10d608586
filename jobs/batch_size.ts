/**
 * Salt's batch size (`-b`, the `local_batch` client's `batch`): a count, or
 * a percentage of the minions that answered (rounded down, at least 1), as
 * `salt/cli/batch.py`'s `get_bnum`.
 *
 * @module
 */

/**
 * The batch size `batch` gives for `count` minions, or a sentence saying
 * what is wrong with it (the callers turn it into their own error).
 *
 * @example
 * ```ts
 * import { batchSize } from "./batch_size.ts";
 * batchSize("25%", 10); // 2
 * batchSize("3", 10); // 3
 * batchSize("x", 10); // "Invalid batch data sent: x\nData must be in the form of %10, 10% or 3"
 * ```
 */
export function batchSize(batch: string, count: number): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(batch);
  if (m === null || (m[2] === "" && !Number.isInteger(Number(m[1])))) {
    return `Invalid batch data sent: ${batch}\nData must be in the form of %10, 10% or 3`;
  }
  const n = m[2] === "%" ? Math.floor((Number(m[1]) / 100) * count) : Number(m[1]);
  if (n < 1 && m[2] === "") return `batch size must be above 0, not '${batch}'`;
  return Math.max(1, n);
}
