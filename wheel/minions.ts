/**
 * The wheel's `minions` functions (Salt's `salt/wheel/minions.py`).
 *
 * @module
 */
import { knownMinions } from "../runners/minion_cache.ts";
import type { WheelContext } from "./wheel_context.ts";

/**
 * Salt's `minions.connected`: the ids of the minions connected now.
 *
 * CLI Example: `wheel.cmd('minions.connected')`
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { connected } from "./minions.ts";
 * declare const ctx: WheelContext;
 * await connected.call(ctx); // ["db1", "web1"]
 * ```
 */
export async function connected(this: WheelContext): Promise<string[]> {
  return (await knownMinions(this)).up;
}
