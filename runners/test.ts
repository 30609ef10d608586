/**
 * The `test` runners (Salt's `salt/runners/test.py`): `test.arg` and
 * `test.sleep`, to check the runner client and its argument binding.
 *
 * @module
 */
import { arg as moduleArg } from "../modules/test.ts";
import { UsageError } from "../bus/errors.ts";
import type { RunnerContext } from "./runner_context.ts";

/**
 * Salt's `test.arg` runner: `{args: [...], kwargs: {...}}` of what it was
 * called with, keyword names starting with `__` left out.
 *
 * CLI Example: `cli.ts run test.arg foo bar=baz`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { arg } from "./test.ts";
 * declare const ctx: RunnerContext;
 * arg.call(ctx, { bar: "baz" }, "foo"); // { args: ["foo"], kwargs: { bar: "baz" } }
 * ```
 */
export function arg(
  this: RunnerContext,
  kwargs: Record<string, unknown> = {},
  ...args: unknown[]
): { args: unknown[]; kwargs: Record<string, unknown> } {
  return moduleArg(kwargs, ...args); // the execution module's test.arg, same shape
}

/**
 * Salt's `test.sleep` runner: sleeps `s_time` seconds (default 10), then
 * returns `true`; stopped early (returning `false`) by the runner's signal.
 *
 * CLI Example: `cli.ts run test.sleep s_time=2`
 *
 * @throws {UsageError} when `s_time` is not a number of seconds.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { sleep } from "./test.ts";
 * declare const ctx: RunnerContext;
 * await sleep.call(ctx, 0.01); // true
 * ```
 */
export function sleep(this: RunnerContext, s_time: unknown = 10): Promise<boolean> {
  const seconds = typeof s_time === "number" ? s_time : Number(String(s_time).trim());
  if (!Number.isFinite(seconds) || seconds < 0 || String(s_time).trim() === "") {
    throw new UsageError(
      `test.sleep: s_time must be a number of seconds, not ${JSON.stringify(s_time)}`,
    );
  }
  const signal = this.signal;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const stop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve(true);
    }, seconds * 1000);
    signal?.addEventListener("abort", stop, { once: true });
  });
}
