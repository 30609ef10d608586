/**
 * The runner registry: `<module>.<function>` → runner function, called with
 * Salt's argument binding (as execution modules are). `cli.ts run <fun>`
 * dispatches through it, and so will the API's runner client.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { ArgumentError } from "../modules/errors.ts";
import { bindArguments } from "../modules/signature.ts";
import * as cache from "./cache.ts";
import * as event from "./event.ts";
import * as jobs from "./jobs.ts";
import * as manage from "./manage.ts";
import * as reactor from "./reactor.ts";
import type { RunnerContext, RunnerFunction } from "./runner_context.ts";
import * as state from "./state.ts";
import * as test from "./test.ts";

/** Runner modules by name; every exported function is a runner. */
const MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  cache,
  event,
  jobs,
  manage,
  reactor,
  state,
  test,
};

/**
 * Every runner, by its Salt name.
 *
 * @example
 * ```ts
 * import { RUNNERS } from "./registry.ts";
 * console.log(Object.keys(RUNNERS)); // ["event.send", "manage.down", …, "state.event"]
 * ```
 */
export const RUNNERS: Readonly<Record<string, RunnerFunction>> = Object.freeze(
  Object.fromEntries(
    Object.entries(MODULES).flatMap(([module, exports]) =>
      Object.entries(exports)
        .filter(([, value]) => typeof value === "function" && !/^[A-Z]/.test(value.name))
        .map(([name, fn]) => [`${module}.${name}`, fn as RunnerFunction])
    ).sort(([a], [b]) => a < b ? -1 : 1),
  ),
);

/**
 * Salt's answer for a function that is not loaded (`LazyLoader.missing_fun_string`).
 *
 * @example
 * ```ts
 * import { notAvailable } from "./registry.ts";
 * notAvailable("foo.bar"); // "'foo.bar' is not available."
 * ```
 */
export function notAvailable(fun: string): string {
  return `'${fun}' is not available.`;
}

/** No runner has that name. */
export class RunnerNotFoundError extends UsageError {
  /** The name asked for. */
  readonly fun: string;

  /** Creates the error for `fun`. */
  constructor(fun: string) {
    super(`run: unknown function '${fun}'; available: ${Object.keys(RUNNERS).join(", ")}`);
    this.name = "RunnerNotFoundError";
    this.fun = fun;
  }

  /** What Salt's runner client answers: `'<fun>' is not available.` */
  get saltMessage(): string {
    return notAvailable(this.fun);
  }
}

/**
 * Calls runner `fun` with Salt-style positional and keyword arguments; `ctx`
 * is its `this` (with `fun` set).
 *
 * @throws {RunnerNotFoundError} for an unknown runner.
 * @throws {UsageError} for arguments that do not fit it (Python's wording).
 * @example
 * ```ts
 * import { callRunner } from "./registry.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: Omit<RunnerContext, "fun">;
 * await callRunner("event.send", ["myco/tag"], { data: { a: 1 } }, ctx);
 * ```
 */
export async function callRunner(
  fun: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: Omit<RunnerContext, "fun">,
): Promise<unknown> {
  if (!Object.hasOwn(RUNNERS, fun)) throw new RunnerNotFoundError(fun);
  const runner = RUNNERS[fun];
  let bound: unknown[];
  try {
    bound = bindArguments(fun, runner, args, kwargs);
  } catch (err) {
    if (err instanceof ArgumentError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  return await runner.apply({ ...ctx, fun }, bound);
}
