/**
 * What a wheel function runs with (`this`): the runners' context (the
 * master's `__opts__`, a log, the services to reach the master).
 *
 * @module
 */
import type { RunnerContext } from "../runners/runner_context.ts";

/**
 * The `this` of a wheel function: the same as a runner's.
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * function connected(this: WheelContext) {
 *   return this.opts.id;
 * }
 * ```
 */
export type WheelContext = RunnerContext;

/** A wheel function: Salt's argument binding applies, as for runners. */
// deno-lint-ignore no-explicit-any
export type WheelFunction = (this: WheelContext, ...args: any[]) => unknown;
